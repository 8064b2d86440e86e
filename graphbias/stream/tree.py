"""A global multi-label Hoeffding tree with a multivariate-Bernoulli split criterion.

Each leaf models the label vector as independent Bernoullis, so its impurity is the
sum of the per-label binary entropies

    H = sum_l h(p_l),   h(p) = -p log2 p - (1 - p) log2 (1 - p),

and a binary split ``x_f <= v`` has merit ``H - (n_L/n) H_L - (n_R/n) H_R`` (the
summed per-label information gain). Divided by the number of labels ``L`` the merit
lies in [0, 1], so, as in a Hoeffding tree, a leaf that saw ``n`` instances splits on
its best feature when it beats the best split on any other feature by
``eps = sqrt(ln(1/delta) / (2 n))`` or when ``eps < tau`` (a tie).

Instances are sparse rows (:mod:`~graphbias.stream.encoding`): a feature an instance
leaves out is *missing*. With ``missing="zero"`` (sparse data such as bag-of-words)
it reads as 0 everywhere. With ``missing="absent"`` it is treated as River's Hoeffding
trees treat it: the instance does not count in that feature's split statistics, and
a branch on the feature sends it down the side that received more instances.

Split candidates come from a histogram per candidate feature: once a leaf holds
``grace_period`` instances, the quantiles of its window fix ``n_bins`` bins per
feature, and the leaf counts instances and label occurrences per bin from then on
(numpy arrays ``(candidates, bins)`` and ``(candidates, bins, labels)``, one
vectorised update per instance). The candidates are the features the window
carries; with ``max_candidates`` at most that many, chosen by their merit on the
window among the ``4 * max_candidates`` features the window carries most often.
Whenever a split attempt fails, features the window carries that are not candidates
(for instance, features first seen after the histogram was built) compete for the
places by the same merit, their statistics taken from the window; so the statistics
of a leaf cost ``O(max_candidates * n_bins * L)`` however many distinct features the
stream brings. The tree stops growing at ``max_leaves`` leaves; leaves then drop
their histograms, so memory is bounded by ``max_leaves`` windows.
"""
from __future__ import annotations

import warnings
from typing import Optional, Sequence, Union

import numpy as np

from .local_learners import LeafLearners, LeafWindow, LearnerSettings, RunningScale

__all__ = ["MultiLabelHoeffdingTree"]

_CHUNK = 256   # features whose window histograms are built at once when ranking


def _entropy_sum(n: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Summed binary entropies (bits) of the label frequencies ``pos / n`` over the
    last axis; 0 where ``n`` is 0."""
    p = pos / np.maximum(n, 1)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.nan_to_num(h, nan=0.0).sum(axis=-1)


class _Histogram:
    """Per-candidate bin counts of instances and of label occurrences at one leaf.

    ``feats`` are the candidate features (ascending), ``n`` the instances seen since
    the histogram was built (its window included). With ``absent`` an instance only
    counts for the candidates it carries, so each candidate has its own total."""

    def __init__(self, n_labels: int, n_bins: int, absent: bool) -> None:
        self.n_bins = n_bins
        self.absent = absent
        self.feats = np.zeros(0, dtype=np.int64)
        self.edges = np.zeros((0, n_bins - 1))
        self.counts = np.zeros((0, n_bins), dtype=np.int64)
        self.pos = np.zeros((0, n_bins, n_labels), dtype=np.int64)
        self.n = 0

    def _window_stats(self, window: LeafWindow, rows: np.ndarray, feats: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edges, counts and label counts of ``feats`` over the window's ``rows``."""
        D, present = window.values(rows, feats)
        levels = np.linspace(0, 1, self.n_bins + 1)[1:-1]
        if self.absent:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN columns
                edges = np.nanquantile(np.where(present, D, np.nan), levels, axis=0).T
        else:
            edges = np.quantile(D, levels, axis=0).T
            present = np.ones_like(present)
        edges = np.ascontiguousarray(edges).reshape(len(feats), self.n_bins - 1)
        bins = (D[:, :, None] > edges[None]).sum(axis=2)              # (rows, C)
        C, B, L = len(feats), self.n_bins, window.Y.shape[1]
        cell = np.arange(C)[None, :] * B + bins                        # (rows, C)
        counts = np.bincount(cell[present], minlength=C * B).reshape(C, B)
        r_on, l_on = np.nonzero(window.Y[rows])
        flat = cell[r_on] * L + l_on[:, None]                          # (pairs, C)
        pos = np.bincount(flat[present[r_on]], minlength=C * B * L).reshape(C, B, L)
        return edges, counts, pos

    def add(self, window: LeafWindow, rows: np.ndarray, feats: np.ndarray) -> None:
        """Adds candidates ``feats`` (not yet candidates) with their window statistics."""
        if not len(feats):
            return
        edges, counts, pos = self._window_stats(window, rows, feats)
        order = np.argsort(np.concatenate([self.feats, feats]), kind="stable")
        self.feats = np.concatenate([self.feats, feats])[order]
        self.edges = np.concatenate([self.edges, edges])[order]
        self.counts = np.concatenate([self.counts, counts])[order]
        self.pos = np.concatenate([self.pos, pos])[order]

    def drop(self, keep: np.ndarray) -> None:
        """Keeps only the candidates at positions ``keep`` (ascending)."""
        self.feats, self.edges = self.feats[keep], self.edges[keep]
        self.counts, self.pos = self.counts[keep], self.pos[keep]

    def update(self, idx: np.ndarray, val: np.ndarray, on: np.ndarray) -> None:
        """Counts one instance (sparse row ``idx``, ``val``; labels ``on`` on)."""
        self.n += 1
        if not len(self.feats):
            return
        at = np.minimum(np.searchsorted(idx, self.feats), max(idx.size - 1, 0))
        present = (idx[at] == self.feats) if idx.size else np.zeros(len(self.feats), bool)
        x = np.where(present, val[at] if idx.size else 0.0, 0.0)
        bins = (x[:, None] > self.edges).sum(axis=1)
        rows = np.flatnonzero(present) if self.absent else np.arange(len(self.feats))
        self.counts[rows, bins[rows]] += 1
        if on.size:
            self.pos[rows[:, None], bins[rows][:, None], on[None, :]] += 1

    def grow_labels(self, k: int) -> None:
        self.pos = np.pad(self.pos, ((0, 0), (0, 0), (0, k)))

    def best_per_feature(self, min_fraction: float) -> tuple[np.ndarray, np.ndarray]:
        """Best normalised merit and threshold for each candidate."""
        n = self.counts.sum(axis=1)                                     # (C,)
        total_pos = self.pos.sum(axis=1)                                # (C, L)
        n_left = np.cumsum(self.counts, axis=1)[:, :-1]                 # (C, B-1)
        pos_left = np.cumsum(self.pos, axis=1)[:, :-1]                  # (C, B-1, L)
        n_right, pos_right = n[:, None] - n_left, total_pos[:, None] - pos_left
        parent = _entropy_sum(n, total_pos)
        merit = parent[:, None] - (n_left * _entropy_sum(n_left, pos_left)
                                   + n_right * _entropy_sum(n_right, pos_right)
                                   ) / np.maximum(n, 1)[:, None]
        merit /= max(self.pos.shape[2], 1)
        small = np.minimum(n_left, n_right) < min_fraction * n[:, None]
        merit = np.where(small, -np.inf, merit)
        best = merit.argmax(axis=1) if merit.size else np.zeros(0, dtype=np.int64)
        rows = np.arange(len(best))
        return merit[rows, best], self.edges[rows, best]


class _Leaf:
    __slots__ = ("learners", "hist", "depth", "n_since_attempt")

    def __init__(self, learners: LeafLearners, depth: int) -> None:
        self.learners = learners
        self.hist: Optional[_Histogram] = None
        self.depth = depth
        self.n_since_attempt = 0

    @property
    def window(self) -> LeafWindow:
        return self.learners.window


class _Branch:
    __slots__ = ("feature", "threshold", "left", "right", "n_left", "n_right")

    def __init__(self, feature: int, threshold: float, left: "_Node", right: "_Node",
                 n_left: int, n_right: int) -> None:
        self.feature = feature
        self.threshold = threshold
        self.left = left
        self.right = right
        self.n_left = n_left
        self.n_right = n_right


_Node = Union[_Leaf, _Branch]


class MultiLabelHoeffdingTree:
    """Routes sparse rows to leaves; each leaf holds its window of local learners.

    Parameters
    ----------
    n_labels : int
        Labels at the start (more can be added with :meth:`grow_labels`).
    settings : LearnerSettings, default=LearnerSettings()
        How the leaves' local learners predict.
    window_size : int, default=1000
        Instances kept per leaf.
    grace_period : int, default=200
        Instances a leaf sees between split attempts.
    delta : float, default=1e-7
        Hoeffding ``delta`` of the splits.
    tau : float, default=0.05
        Hoeffding ``tau``: split when the bound falls below it.
    n_bins : int, default=16
        Histogram bins per candidate feature.
    max_leaves : int, default=16
        The tree stops growing at this many leaves.
    max_candidates : int or None, default=None
        Split candidates per leaf (None: every feature the leaf's window carries).
    missing : {"zero", "absent"}, default="zero"
        How a feature missing from an instance is read (see the module docstring).
    min_branch_fraction : float, default=0.05
        A split must send at least this share of a leaf's instances each way.
    max_depth : int, default=20
        Leaves at this depth do not split.
    rng : numpy Generator, default=None
        Draws of the bagged logistic learners.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> tree = MultiLabelHoeffdingTree(n_labels=2, grace_period=100)
    >>> idx = np.array([0, 1])
    >>> for t in range(3000):
    ...     x = rng.normal(size=2)
    ...     tree.learn(idx, x, np.array([x[0] > 0, x[0] > 0]), t)
    >>> tree.n_leaves > 1, tree.root.feature
    (True, 0)
    """

    def __init__(self, n_labels: int, *, settings: LearnerSettings = LearnerSettings(),
                 window_size: int = 1000, grace_period: int = 200, delta: float = 1e-7,
                 tau: float = 0.05, n_bins: int = 16, max_leaves: int = 16,
                 max_candidates: Optional[int] = None, missing: str = "zero",
                 min_branch_fraction: float = 0.05, max_depth: int = 20,
                 rng: Optional[np.random.Generator] = None) -> None:
        self.settings = settings
        self.window_size = window_size
        self.grace_period = grace_period
        self.delta = delta
        self.tau = tau
        self.n_bins = n_bins
        self.max_leaves = max_leaves
        self.max_candidates = max_candidates
        self.missing = missing
        self.min_branch_fraction = min_branch_fraction
        self.max_depth = max_depth
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.root: _Node = _Leaf(LeafLearners.new(window_size, n_labels, settings,
                                                  self.rng), 0)
        self.n_leaves = 1
        self.scale = RunningScale()

    # ---------------------------------------------------------------- routing
    def _goes_left(self, node: _Branch, idx: np.ndarray, val: np.ndarray) -> bool:
        at = int(np.searchsorted(idx, node.feature))
        if at < idx.size and idx[at] == node.feature:
            return bool(val[at] <= node.threshold)
        if self.missing == "zero":
            return 0.0 <= node.threshold
        return node.n_left >= node.n_right

    def sort(self, idx: np.ndarray, val: np.ndarray, count: bool = False) -> _Leaf:
        """The leaf a sparse row reaches (``count``: recorded in the branch counts)."""
        node = self.root
        while isinstance(node, _Branch):
            left = self._goes_left(node, idx, val)
            if count:
                node.n_left += left
                node.n_right += not left
            node = node.left if left else node.right
        return node

    def leaves(self) -> list[_Leaf]:
        out, stack = [], [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, _Branch):
                stack += [node.right, node.left]
            else:
                out.append(node)
        return out

    def grow_labels(self, k: int) -> None:
        for leaf in self.leaves():
            leaf.learners.grow_labels(k)
            if leaf.hist is not None:
                leaf.hist.grow_labels(k)

    def predict(self, idx: np.ndarray, val: np.ndarray,
                clusters: Sequence[tuple[int, np.ndarray, int]]
                ) -> tuple[np.ndarray, np.ndarray]:
        """``(on, proba)`` of the leaf's local learners for a sparse row."""
        return self.sort(idx, val).learners.predict(idx, val, self.scale, clusters,
                                                    self.settings)

    # ---------------------------------------------------------------- learning
    def learn(self, idx: np.ndarray, val: np.ndarray, y: np.ndarray, t: int) -> None:
        """Adds one instance: sparse row ``idx`` (ascending), ``val``; ``y`` a bool
        vector over labels; ``t`` its time."""
        self.scale.update(idx, val)
        leaf = self.sort(idx, val, count=True)
        leaf.learners.add(idx, val, y, t)
        if self._can_grow(leaf):
            if leaf.hist is None:
                if leaf.window.size >= self.grace_period:
                    leaf.hist = self._new_histogram(leaf.window)
            else:
                leaf.hist.update(idx, val, np.flatnonzero(y))
            leaf.n_since_attempt += 1
            if leaf.hist is not None and leaf.n_since_attempt >= self.grace_period:
                leaf.n_since_attempt = 0
                self._attempt_split(leaf)
        elif leaf.hist is not None:
            leaf.hist = None

    def _can_grow(self, leaf: _Leaf) -> bool:
        return self.n_leaves < self.max_leaves and leaf.depth < self.max_depth

    def _new_histogram(self, window: LeafWindow) -> _Histogram:
        rows = window.entries()
        feats, freq = window.features(rows)
        hist = _Histogram(window.Y.shape[1], self.n_bins, self.missing == "absent")
        if self.max_candidates is not None and len(feats) > self.max_candidates:
            merits = self._window_merits(window, rows, feats, freq)
            top = np.argsort(-merits, kind="stable")[:self.max_candidates]
            feats = np.sort(feats[top])
        hist.add(window, rows, feats)
        hist.n = len(rows)
        return hist

    def _window_merits(self, window: LeafWindow, rows: np.ndarray, feats: np.ndarray,
                       freq: np.ndarray) -> np.ndarray:
        """Merit of each feature on the window rows; -inf for all but the
        ``4 * max_candidates`` the window carries most often."""
        merits = np.full(len(feats), -np.inf)
        pool = np.sort(np.argsort(-freq, kind="stable")[:4 * self.max_candidates])
        for start in range(0, len(pool), _CHUNK):
            part = pool[start:start + _CHUNK]
            probe = _Histogram(window.Y.shape[1], self.n_bins, self.missing == "absent")
            probe.add(window, rows, feats[part])
            merits[part] = probe.best_per_feature(self.min_branch_fraction)[0]
        return merits

    def _refresh(self, leaf: _Leaf, merits: np.ndarray) -> None:
        """Lets the window's other features compete for the candidate places."""
        hist, window = leaf.hist, leaf.window
        rows = window.entries()
        feats, freq = window.features(rows)
        new = ~np.isin(feats, hist.feats)
        if not new.any():
            return
        if self.max_candidates is None:
            hist.add(window, rows, feats[new])
            return
        new_merits = self._window_merits(window, rows, feats[new], freq[new])
        pool = np.concatenate([merits, new_merits])
        top = np.argsort(-pool, kind="stable")[:self.max_candidates]
        hist.drop(np.sort(top[top < len(merits)]))
        hist.add(window, rows, feats[new][top[top >= len(merits)] - len(merits)])

    def _attempt_split(self, leaf: _Leaf) -> None:
        hist = leaf.hist
        assert hist is not None
        merits, thresholds = hist.best_per_feature(self.min_branch_fraction)
        if merits.size and np.isfinite(merits).any():
            order = np.argsort(-merits)
            best = merits[order[0]]
            second = merits[order[1]] if merits.size > 1 and np.isfinite(merits[order[1]]) \
                else 0.0
            eps = np.sqrt(np.log(1.0 / self.delta) / (2.0 * hist.n))
            if best > 0 and (best - second > eps or eps < self.tau):
                self._split(leaf, int(hist.feats[order[0]]), float(thresholds[order[0]]))
                return
        self._refresh(leaf, merits)

    def _split(self, leaf: _Leaf, feature: int, threshold: float) -> None:
        rows = leaf.window.entries()
        D, present = leaf.window.values(rows, np.array([feature]))
        left = D[:, 0] <= threshold
        if self.missing == "absent":
            majority = (present[:, 0] & left).sum() >= (present[:, 0] & ~left).sum()
            left = np.where(present[:, 0], left, majority)
        branch = _Branch(feature, threshold,
                         _Leaf(leaf.learners.take(rows[left], self.window_size),
                               leaf.depth + 1),
                         _Leaf(leaf.learners.take(rows[~left], self.window_size),
                               leaf.depth + 1),
                         int(left.sum()), int((~left).sum()))
        self._replace(leaf, branch)
        self.n_leaves += 1

    def _replace(self, old: _Leaf, new: _Branch) -> None:
        if self.root is old:
            self.root = new
            return
        stack = [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, _Branch):
                if node.left is old:
                    node.left = new
                    return
                if node.right is old:
                    node.right = new
                    return
                stack += [node.left, node.right]
