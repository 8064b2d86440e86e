"""Per-cluster local learners at a leaf of the global tree, on sparse rows.

A leaf keeps a sliding window of the last ``window_size`` instances that reached it
(their sparse features, every label, arrival time). All clusters of the leaf share
one nearest-neighbour search over it: distance-weighted, ``w_j = 1 / (dist_j + 1e-6)``,
Euclidean on features divided by their running standard deviation, a feature missing
from an instance read as 0 (as River's neighbour searches do). Only the features the
two instances carry enter a distance,

    d(q, r)^2 = sum_{f in r} ((r_f - q_f) / s_f)^2 + sum_{f in q, f not in r} (q_f / s_f)^2,

so a search costs the window's stored entries, whatever the number of distinct
features. With ``metric="cosine"`` the distance is ``1 - cos(q / s, r / s)`` instead,
from the same stored entries. Then each cluster ``c`` predicts on its own:

- while ``|c| <= lp_max_labels``: a label powerset over the neighbours' combinations on
  ``c`` (with their weights), decided by ``lp_objective``: ``"subset"`` takes the
  heaviest combination (the Bayes decision for subset accuracy), ``"f1"`` the
  candidate ``S`` (a neighbour's combination or the binary-relevance one) with the
  largest expected F1, ``sum_j w_j F1(S, y_j)``; a one-label cluster is the vote below;
- otherwise binary relevance: with ``br_learner="knn"`` label ``l`` is on when its
  weighted vote ``sum_j w_j y_jl / sum_j w_j`` reaches 1/2; with
  ``"bagged-logistic"`` when the mean probability of ``n_models`` online logistic
  regressions per label, bagged as in Oza's online bagging (each instance learned a
  Poisson(1) number of times per model) and trained by SGD on the raw features as
  River's ``LogisticRegression``, reaches 1/2.

A cluster that restarted after a drift at time ``since`` only reads the window
entries that arrived after ``since`` (its alternate learner, grown since the drift
warning), falling back to the whole window while fewer than ``n_neighbors`` exist.
Because the window (and the logistic models) hold every label, a cluster created by
a split or merge has a trained learner at once, and a leaf split hands each child the
entries it would have received.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

__all__ = ["LearnerSettings", "RunningScale", "LeafWindow", "BaggedLogistic",
           "LeafLearners"]


@dataclass(frozen=True)
class LearnerSettings:
    """How the local learners decide (validated estimator parameters)."""

    n_neighbors: int = 11
    lp_max_labels: Optional[int] = 8
    lp_objective: str = "f1"
    br_learner: str = "knn"
    n_models: int = 10
    lr: float = 0.3
    metric: str = "euclidean"

    def powerset(self, n_labels: int) -> bool:
        """Whether a cluster of ``n_labels`` labels is predicted by the neighbours'
        label combinations (else by the binary-relevance learner)."""
        return self.lp_max_labels is None or n_labels <= self.lp_max_labels


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    """``array`` with its first axis padded with zeros to at least ``size``
    (capacity doubling, so growing one feature at a time stays linear)."""
    if len(array) >= size:
        return array
    out = np.zeros((max(size, 2 * len(array)),) + array.shape[1:], dtype=array.dtype)
    out[:len(array)] = array
    return out


class RunningScale:
    """Running standard deviation of every feature, a missing feature counted as 0.

    Welford's update runs on the values an instance carries; the zeros of the
    instances that left a feature out are added when the deviation is read (Chan's
    pooled variance), so an update costs the instance's entries only.

    Examples
    --------
    >>> s = RunningScale()
    >>> for idx, val in (([0, 1], [1.0, 2.0]), ([0], [3.0]), ([0, 1], [5.0, 2.0])):
    ...     s.update(np.array(idx), np.array(val))
    >>> s.vector().round(3).tolist()    # sd of (1, 3, 5) and (2, 0, 2)
    [2.0, 1.155]
    """

    def __init__(self) -> None:
        self.n = 0
        self.n_features = 0
        self.count = np.zeros(0, dtype=np.int64)
        self.mean = np.zeros(0)
        self.m2 = np.zeros(0)
        self._sd: Optional[np.ndarray] = None

    def update(self, idx: np.ndarray, val: np.ndarray) -> None:
        """Adds one instance (its sparse row)."""
        self.n += 1
        self._sd = None
        if idx.size and idx[-1] >= self.n_features:
            self.n_features = int(idx[-1]) + 1
            self.count, self.mean, self.m2 = (_grown(a, self.n_features) for a in
                                              (self.count, self.mean, self.m2))
        self.count[idx] += 1
        delta = val - self.mean[idx]
        self.mean[idx] += delta / self.count[idx]
        self.m2[idx] += delta * (val - self.mean[idx])

    def vector(self, size: int = 0) -> np.ndarray:
        """Standard deviation of features ``0, 1, ...`` (at least ``size`` of them);
        1 where a feature is still constant or unseen."""
        if self._sd is None:
            F = self.n_features
            k, mean = self.count[:F], self.mean[:F]
            m2 = self.m2[:F] + mean * mean * k * (self.n - k) / max(self.n, 1)
            sd = np.sqrt(m2 / max(self.n - 1, 1))
            self._sd = np.where(sd > 1e-12, sd, 1.0)
        if len(self._sd) < size:
            return np.concatenate([self._sd, np.ones(size - len(self._sd))])
        return self._sd


class LeafWindow:
    """A ring buffer of sparse rows, their labels and arrival times, with the
    per-cluster nearest-neighbour predictions.

    Rows are stored padded to the largest number of entries one holds (``idx``,
    ``val`` of shape ``(window_size, width)``, ``nnz`` entries used per row).
    """

    def __init__(self, window_size: int, n_labels: int, width: int = 0) -> None:
        self.idx = np.zeros((window_size, width), dtype=np.int64)
        self.val = np.zeros((window_size, width))
        self.nnz = np.zeros(window_size, dtype=np.int64)
        self.Y = np.zeros((window_size, n_labels), dtype=bool)
        self.T = np.zeros(window_size, dtype=np.int64)
        self.size = 0
        self.head = 0

    @property
    def capacity(self) -> int:
        return len(self.T)

    def _widen(self, width: int) -> None:
        pad = width - self.idx.shape[1]
        self.idx = np.pad(self.idx, ((0, 0), (0, pad)))
        self.val = np.pad(self.val, ((0, 0), (0, pad)))

    def add(self, idx: np.ndarray, val: np.ndarray, y: np.ndarray, t: int) -> None:
        if idx.size > self.idx.shape[1]:
            self._widen(idx.size)
        h = self.head
        self.idx[h], self.val[h] = 0, 0.0
        self.idx[h, :idx.size], self.val[h, :idx.size], self.nnz[h] = idx, val, idx.size
        self.Y[h] = y
        self.T[h] = t
        self.head = (h + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def grow_labels(self, k: int) -> None:
        self.Y = np.concatenate([self.Y, np.zeros((len(self.Y), k), dtype=bool)], axis=1)

    def entries(self) -> np.ndarray:
        """Positions of the stored entries, oldest first."""
        if self.size < self.capacity:
            return np.arange(self.size)
        return (self.head + np.arange(self.size)) % self.capacity

    def take(self, rows: np.ndarray, window_size: int) -> "LeafWindow":
        """A new window holding ``rows`` (oldest first), e.g. one side of a split."""
        rows = rows[-window_size:]
        width = int(self.nnz[rows].max()) if rows.size else 0
        out = LeafWindow(window_size, self.Y.shape[1], width)
        m = len(rows)
        out.idx[:m], out.val[:m] = self.idx[rows, :width], self.val[rows, :width]
        out.nnz[:m], out.Y[:m], out.T[:m] = self.nnz[rows], self.Y[rows], self.T[rows]
        out.size, out.head = m, m % window_size
        return out

    def _used(self, rows: np.ndarray) -> np.ndarray:
        return np.arange(self.idx.shape[1]) < self.nnz[rows, None]

    def features(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The distinct features the ``rows`` carry, ascending, and how many of the
        rows carry each."""
        return np.unique(self.idx[rows][self._used(rows)], return_counts=True)

    def values(self, rows: np.ndarray, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(len(rows), len(features))`` values of ``features`` (ascending) at ``rows``,
        0 where a row does not carry the feature, and where it does."""
        I, V, used = self.idx[rows], self.val[rows], self._used(rows)
        col = np.minimum(np.searchsorted(features, I), max(len(features) - 1, 0))
        hit = used & (features[col] == I) if len(features) else used & False
        out = np.zeros((len(rows), len(features)))
        present = np.zeros((len(rows), len(features)), dtype=bool)
        r = np.nonzero(hit)[0]
        out[r, col[hit]] = V[hit]
        present[r, col[hit]] = True
        return out, present

    def _aligned(self, q_idx: np.ndarray, q_val: np.ndarray, scale: RunningScale
                 ) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray], np.ndarray,
                            np.ndarray]:
        """The stored entries ``I``, ``V``, which of them are used (None: all), the
        query as a dense vector and the standard deviations, both covering ``I``."""
        n = self.size
        I, V = self.idx[:n], self.val[:n]
        sd = scale.vector(max(int(I.max(initial=0)), int(q_idx.max(initial=0))) + 1)
        q = np.zeros(len(sd))
        q[q_idx] = q_val
        used = None if (self.nnz[:n] == I.shape[1]).all() else self._used(np.arange(n))
        return I, V, used, q, sd

    def distances(self, q_idx: np.ndarray, q_val: np.ndarray, scale: RunningScale,
                  metric: str = "euclidean") -> np.ndarray:
        """Distance from the sparse row ``(q_idx, q_val)`` to every stored row, on
        features divided by their standard deviation: Euclidean or ``1 - cos`` (see
        the module docstring)."""
        I, V, used, q, sd = self._aligned(q_idx, q_val, scale)
        qI, sI = q[I], sd[I]
        if metric == "cosine":
            R = V / sI
            if used is not None:
                R[~used] = 0.0
            qs = q / sd
            norm = np.sqrt((R * R).sum(axis=1)) * np.sqrt((qs * qs).sum())
            dot = (R * (qI / sI)).sum(axis=1)
            return 1.0 - np.where(norm > 0, dot / np.where(norm > 0, norm, 1.0), 0.0)
        terms = ((V - qI) / sI) ** 2
        if used is not None:
            terms[~used] = 0.0
        d2 = terms.sum(axis=1)
        if q_idx.size:   # the query's entries a row does not carry
            mark = np.zeros(len(sd), dtype=bool)
            mark[q_idx] = True
            shared = mark[I] if used is None else mark[I] & used
            lacking = shared.sum(axis=1) < q_idx.size
            if lacking.any():
                inside = np.where(shared[lacking], (qI[lacking] / sI[lacking]) ** 2,
                                  0.0).sum(axis=1)
                total = ((q_val / sd[q_idx]) ** 2).sum()
                d2[lacking] += np.maximum(total - inside, 0.0)
        return np.sqrt(d2)

    def neighbours(self, dist: np.ndarray, since: int,
                   n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions and normalised weights of the nearest entries, only those after
        ``since`` when at least ``n_neighbors`` exist."""
        d = dist
        if since > 0:
            fresh = self.T[:self.size] >= since
            if fresh.sum() >= n_neighbors:
                d = np.where(fresh, dist, np.inf)
        k = min(n_neighbors, self.size)
        idx = np.argpartition(d, k - 1)[:k] if k < self.size else np.arange(self.size)
        idx = idx[np.isfinite(d[idx])]
        w = 1.0 / (d[idx] + 1e-6)
        return idx, w / w.sum()


class BaggedLogistic:
    """Online bagging of per-label logistic regressions on sparse rows.

    Model ``m`` keeps weights ``W[:, m, l]`` (grown as features appear) and a bias
    ``b[m, l]``. Each instance is learned ``k_m ~ Poisson(1)`` times by model ``m``
    (Oza's online bagging, as River's ``BaggingClassifier``), each time one SGD step
    on the log loss, as River's ``LogisticRegression`` takes it:
    ``w <- w - lr (sigma(w.x + b) - y) x`` and ``b <- b - 0.01 (sigma(w.x + b) - y)``.
    """

    intercept_lr = 0.01

    def __init__(self, n_models: int, n_labels: int, lr: float,
                 rng: np.random.Generator) -> None:
        self.W = np.zeros((0, n_models, n_labels))
        self.b = np.zeros((n_models, n_labels))
        self.lr = lr
        self.rng = rng

    def copy(self) -> "BaggedLogistic":
        """The same models (sharing the random generator)."""
        out = BaggedLogistic(0, 0, self.lr, self.rng)
        out.W, out.b = self.W.copy(), self.b.copy()
        return out

    def grow_labels(self, k: int) -> None:
        self.W = np.pad(self.W, ((0, 0), (0, 0), (0, k)))
        self.b = np.pad(self.b, ((0, 0), (0, k)))

    def _models_proba(self, idx: np.ndarray, x: np.ndarray) -> np.ndarray:
        known = idx < len(self.W)
        z = np.einsum("f,fml->ml", x[known], self.W[idx[known]]) + self.b
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))

    def proba(self, idx: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Mean probability over the models of every label being on."""
        return self._models_proba(idx, x).mean(axis=0)

    def learn(self, idx: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        """``k_m`` SGD steps of each model ``m``."""
        if idx.size:
            self.W = _grown(self.W, int(idx[-1]) + 1)
        k = self.rng.poisson(1.0, size=self.b.shape[0])
        for step in range(int(k.max(initial=0))):
            active = np.flatnonzero(k > step)
            grad = self._models_proba(idx, x)[active] - y
            self.W[np.ix_(idx, active)] -= self.lr * x[:, None, None] * grad[None]
            self.b[active] -= self.intercept_lr * grad


class LeafLearners:
    """The local learners of one leaf: its window and, for
    ``br_learner="bagged-logistic"``, the bagged logistic regressions."""

    def __init__(self, window: LeafWindow, logistic: Optional[BaggedLogistic]) -> None:
        self.window = window
        self.logistic = logistic

    @classmethod
    def new(cls, window_size: int, n_labels: int, settings: LearnerSettings,
            rng: np.random.Generator) -> "LeafLearners":
        logistic = BaggedLogistic(settings.n_models, n_labels, settings.lr, rng) \
            if settings.br_learner == "bagged-logistic" else None
        return cls(LeafWindow(window_size, n_labels), logistic)

    def add(self, idx: np.ndarray, val: np.ndarray, y: np.ndarray, t: int) -> None:
        self.window.add(idx, val, y, t)
        if self.logistic is not None:
            self.logistic.learn(idx, val, y)

    def grow_labels(self, k: int) -> None:
        self.window.grow_labels(k)
        if self.logistic is not None:
            self.logistic.grow_labels(k)

    def take(self, rows: np.ndarray, window_size: int) -> "LeafLearners":
        """The learners of one side of a split: the window's ``rows`` and a copy of
        the logistic regressions (sharing the random generator)."""
        logistic = self.logistic.copy() if self.logistic is not None else None
        return LeafLearners(self.window.take(rows, window_size), logistic)

    def predict(self, idx: np.ndarray, val: np.ndarray, scale: RunningScale,
                clusters: Sequence[tuple[int, np.ndarray, int]],
                settings: LearnerSettings) -> tuple[np.ndarray, np.ndarray]:
        """``(on, proba)`` over all labels: per-cluster decisions and per-label
        probabilities. An empty window predicts nothing on, with probability 0."""
        window = self.window
        n_labels = window.Y.shape[1]
        on = np.zeros(n_labels, dtype=bool)
        proba = np.zeros(n_labels)
        if window.size == 0:
            return on, proba
        logistic = None
        if self.logistic is not None and any(not settings.powerset(len(c))
                                             for _, c, _ in clusters):
            logistic = self.logistic.proba(idx, val)
        dist = window.distances(idx, val, scale, settings.metric)
        by_since: dict[int, list[np.ndarray]] = {}
        for _, labels, since in clusters:
            by_since.setdefault(since, []).append(labels)
        for since, groups in by_since.items():
            near, w = window.neighbours(dist, since, settings.n_neighbors)
            ny = window.Y[near]
            votes = w @ ny
            every = np.concatenate(groups)
            proba[every] = votes[every]
            on[every] = votes[every] >= 0.5
            powerset = [c for c in groups if len(c) > 1 and settings.powerset(len(c))]
            if powerset:
                cols = np.concatenate(powerset)
                seg = np.repeat(np.arange(len(powerset)), [len(c) for c in powerset])
                on[cols] = _label_powersets(ny[:, cols], w, votes[cols] >= 0.5, seg,
                                            settings.lp_objective)
            if logistic is not None:
                linear = [c for c in groups if not settings.powerset(len(c))]
                if linear:
                    cols = np.concatenate(linear)
                    proba[cols] = logistic[cols]
                    on[cols] = logistic[cols] >= 0.5
        return on, proba


def _label_powersets(sub: np.ndarray, w: np.ndarray, br: np.ndarray, seg: np.ndarray,
                     objective: str) -> np.ndarray:
    """Label-powerset decisions of several clusters at once.

    ``sub`` (k x m bool) holds the neighbours' labels on the clusters' labels, cluster
    ``seg[j]`` owning column ``j``; ``w`` the neighbours' weights; ``br`` the
    binary-relevance decisions. For each cluster, ``"subset"`` takes the neighbours'
    combination of largest total weight (ties: the one of the nearest neighbour) and
    ``"f1"`` the candidate (a neighbour's combination or ``br``) of largest expected
    F1, ``sum_b w_b F1(S, y_b)`` (ties: the first, ``br`` last).
    """
    k, m = sub.shape
    A = np.zeros((m, seg.max() + 1))
    A[np.arange(m), seg] = 1.0
    S = sub.astype(float)
    if objective == "subset":
        same = (((S[:, None, :] != S[None, :, :]) @ A) == 0).astype(float)   # (k, k, C)
        weight = np.einsum("abc,b->ca", same, w)                             # (C, k)
        nearest = np.broadcast_to(-w, weight.shape)
        best = np.lexsort((nearest, -weight), axis=-1)[:, 0]
        return sub[best[seg], np.arange(m)]
    cand = np.vstack([S, br[None].astype(float)])                            # (k+1, m)
    inter = (cand[:, None, :] * S[None, :, :]) @ A                           # (k+1, k, C)
    size = (cand @ A)[:, None, :] + (S @ A)[None, :, :]
    f1 = np.where(size > 0, 2.0 * inter / np.maximum(size, 1.0), 1.0)
    best = np.einsum("abc,b->ac", f1, w).argmax(axis=0)
    return cand[best[seg], np.arange(m)] > 0
