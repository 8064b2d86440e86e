"""A global multi-label Hoeffding tree with a multivariate-Bernoulli split criterion.

Each leaf models the label vector as independent Bernoullis, so its impurity is the
sum of the per-label binary entropies

    H = sum_l h(p_l),   h(p) = -p log2 p - (1 - p) log2 (1 - p),

and a binary split ``x_f <= v`` has merit ``H - (n_L/n) H_L - (n_R/n) H_R`` (the
summed per-label information gain). Divided by the number of labels ``L`` the merit
lies in [0, 1], so, as in a Hoeffding tree, a leaf that saw ``n`` instances splits on
its best feature when it beats the best split on any other feature by
``eps = sqrt(ln(1/delta) / (2 n))`` or when ``eps < tau`` (a tie).

Split candidates come from a histogram per feature: once a leaf holds
``grace_period`` instances, the quantiles of its window fix ``n_bins`` bins per
feature, and the leaf counts instances and label occurrences per bin from then on
(numpy arrays ``(features, bins)`` and ``(features, bins, labels)``, one vectorised
update per instance). The tree stops growing at ``max_leaves`` leaves; leaves then
drop their histograms, so memory is bounded by ``max_leaves`` windows.
"""
from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np

from .local_learners import LeafWindow

__all__ = ["MultiLabelHoeffdingTree"]


def _entropy_sum(n: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Summed binary entropies (bits) of the label frequencies ``pos / n`` over the
    last axis; 0 where ``n`` is 0."""
    p = pos / np.maximum(n, 1)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.nan_to_num(h, nan=0.0).sum(axis=-1)


class _Histogram:
    """Per-feature bin counts of instances and of label occurrences at one leaf."""

    def __init__(self, X: np.ndarray, Y: np.ndarray, n_bins: int) -> None:
        levels = np.linspace(0, 1, n_bins + 1)[1:-1]
        self.edges = np.quantile(X, levels, axis=0).T.copy()          # (F, B-1)
        n_features = X.shape[1]
        self.counts = np.zeros((n_features, n_bins), dtype=np.int64)
        self.pos = np.zeros((n_features, n_bins, Y.shape[1]), dtype=np.int64)
        self._rows = np.arange(n_features)
        for x, y in zip(X, Y):
            self.update(x, np.flatnonzero(y))

    @property
    def n(self) -> int:
        return int(self.counts[0].sum())

    def update(self, x: np.ndarray, on: np.ndarray) -> None:
        bins = (x[:, None] > self.edges).sum(axis=1)
        self.counts[self._rows, bins] += 1
        if on.size:
            self.pos[self._rows[:, None], bins[:, None], on[None, :]] += 1

    def grow_labels(self, k: int) -> None:
        pad = np.zeros(self.pos.shape[:2] + (k,), dtype=np.int64)
        self.pos = np.concatenate([self.pos, pad], axis=2)

    def best_per_feature(self, min_fraction: float) -> tuple[np.ndarray, np.ndarray]:
        """Best normalised merit and threshold for each feature."""
        n = self.counts[0].sum()
        total_pos = self.pos[0].sum(axis=0)
        n_left = np.cumsum(self.counts, axis=1)[:, :-1]                 # (F, B-1)
        pos_left = np.cumsum(self.pos, axis=1)[:, :-1]                  # (F, B-1, L)
        n_right, pos_right = n - n_left, total_pos - pos_left
        parent = _entropy_sum(np.array(n), total_pos)
        merit = parent - (n_left * _entropy_sum(n_left, pos_left)
                          + n_right * _entropy_sum(n_right, pos_right)) / max(n, 1)
        merit /= max(self.pos.shape[2], 1)
        small = np.minimum(n_left, n_right) < min_fraction * n
        merit = np.where(small, -np.inf, merit)
        best = merit.argmax(axis=1)
        rows = np.arange(len(best))
        return merit[rows, best], self.edges[rows, best]


class _Leaf:
    __slots__ = ("window", "hist", "depth", "n_since_attempt")

    def __init__(self, window: LeafWindow, depth: int) -> None:
        self.window = window
        self.hist: Optional[_Histogram] = None
        self.depth = depth
        self.n_since_attempt = 0


class _Branch:
    __slots__ = ("feature", "threshold", "left", "right")

    def __init__(self, feature: int, threshold: float, left: "_Node", right: "_Node") -> None:
        self.feature = feature
        self.threshold = threshold
        self.left = left
        self.right = right


_Node = Union[_Leaf, _Branch]


class MultiLabelHoeffdingTree:
    """Routes instances to leaves; each leaf holds its window of local learners.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> tree = MultiLabelHoeffdingTree(n_features=2, n_labels=2, grace_period=100)
    >>> for t in range(3000):
    ...     x = rng.normal(size=2)
    ...     tree.learn(x, np.array([x[0] > 0, x[0] > 0]), t)
    >>> tree.n_leaves > 1, tree.root.feature
    (True, 0)
    """

    def __init__(self, n_features: int, n_labels: int, *, window_size: int = 1000,
                 grace_period: int = 200, delta: float = 1e-7, tau: float = 0.05,
                 n_bins: int = 16, max_leaves: int = 16, min_branch_fraction: float = 0.05,
                 max_depth: int = 20) -> None:
        self.window_size = window_size
        self.grace_period = grace_period
        self.delta = delta
        self.tau = tau
        self.n_bins = n_bins
        self.max_leaves = max_leaves
        self.min_branch_fraction = min_branch_fraction
        self.max_depth = max_depth
        self.root: _Node = _Leaf(LeafWindow(window_size, n_features, n_labels), 0)
        self.n_leaves = 1
        self.n = 0
        self.mean = np.zeros(n_features)
        self.m2 = np.zeros(n_features)

    def scale(self) -> np.ndarray:
        """Running standard deviation of each feature (1 where it is still 0)."""
        sd = np.sqrt(self.m2 / max(self.n - 1, 1))
        return np.where(sd > 1e-12, sd, 1.0)

    def sort(self, x: np.ndarray) -> _Leaf:
        node = self.root
        while isinstance(node, _Branch):
            node = node.left if x[node.feature] <= node.threshold else node.right
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
            leaf.window.grow_labels(k)
            if leaf.hist is not None:
                leaf.hist.grow_labels(k)

    def predict(self, x: np.ndarray, clusters: Sequence[tuple[int, np.ndarray, int]],
                n_neighbors: int, lp_max_labels: int,
                lp_objective: str = "f1") -> tuple[np.ndarray, np.ndarray]:
        return self.sort(x).window.predict(x, self.scale(), clusters, n_neighbors,
                                           lp_max_labels, lp_objective)

    def learn(self, x: np.ndarray, y: np.ndarray, t: int) -> None:
        """Adds one instance (``y`` a bool vector over labels, ``t`` its time)."""
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (x - self.mean)
        leaf = self.sort(x)
        leaf.window.add(x, y, t)
        if self._can_grow(leaf):
            if leaf.hist is None:
                if leaf.window.size >= self.grace_period:
                    rows = leaf.window.entries()
                    leaf.hist = _Histogram(leaf.window.X[rows], leaf.window.Y[rows],
                                           self.n_bins)
            else:
                leaf.hist.update(x, np.flatnonzero(y))
            leaf.n_since_attempt += 1
            if leaf.hist is not None and leaf.n_since_attempt >= self.grace_period:
                leaf.n_since_attempt = 0
                self._attempt_split(leaf)
        elif leaf.hist is not None:
            leaf.hist = None

    def _can_grow(self, leaf: _Leaf) -> bool:
        return self.n_leaves < self.max_leaves and leaf.depth < self.max_depth

    def _attempt_split(self, leaf: _Leaf) -> None:
        hist = leaf.hist
        assert hist is not None
        merits, thresholds = hist.best_per_feature(self.min_branch_fraction)
        if merits.size == 0 or not np.isfinite(merits).any():
            return
        order = np.argsort(-merits)
        best = merits[order[0]]
        second = merits[order[1]] if merits.size > 1 and np.isfinite(merits[order[1]]) else 0.0
        eps = np.sqrt(np.log(1.0 / self.delta) / (2.0 * hist.n))
        if best > 0 and (best - second > eps or eps < self.tau):
            self._split(leaf, int(order[0]), float(thresholds[order[0]]))

    def _split(self, leaf: _Leaf, feature: int, threshold: float) -> None:
        rows = leaf.window.entries()
        left = leaf.window.X[rows, feature] <= threshold
        branch = _Branch(feature, threshold,
                         _Leaf(leaf.window.take(rows[left], self.window_size), leaf.depth + 1),
                         _Leaf(leaf.window.take(rows[~left], self.window_size), leaf.depth + 1))
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
