"""Per-cluster local learners at a leaf of the global tree.

A leaf keeps a sliding window of the last ``window_size`` instances that reached it
(features, every label, arrival time). All clusters of the leaf share one
nearest-neighbour search over it (distance-weighted, ``w_j = 1 / (dist_j + 1e-6)``,
Euclidean on standardised features), then each cluster ``c`` predicts on its own:

- label powerset for a small cluster (``|c| <= lp_max_labels``): a distribution over
  the label combinations on ``c`` (the neighbours' combinations, with their weights),
  decided by ``lp_objective``: ``"subset"`` takes the heaviest combination (the Bayes
  decision for subset accuracy), ``"f1"`` the candidate ``S`` (a neighbour's
  combination or the binary-relevance one) with the largest expected F1,
  ``sum_j w_j F1(S, y_j)``;
- binary relevance otherwise: label ``l`` is on when its weighted vote
  ``sum_j w_j y_jl / sum_j w_j`` reaches 1/2.

A cluster that restarted after a drift at time ``since`` only reads the window
entries that arrived after ``since`` (its alternate learner, grown since the drift
warning), falling back to the whole window while fewer than ``n_neighbors`` exist.
Because the window stores every label, a cluster created by a split or merge has a
trained learner at once, and a leaf split hands each child the entries it would have
received.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["LeafWindow"]


class LeafWindow:
    """A ring buffer of ``(x, y, t)`` with the per-cluster kNN predictions."""

    def __init__(self, window_size: int, n_features: int, n_labels: int) -> None:
        self.X = np.zeros((window_size, n_features))
        self.Y = np.zeros((window_size, n_labels), dtype=bool)
        self.T = np.zeros(window_size, dtype=np.int64)
        self.size = 0
        self.head = 0

    def add(self, x: np.ndarray, y: np.ndarray, t: int) -> None:
        self.X[self.head] = x
        self.Y[self.head] = y
        self.T[self.head] = t
        self.head = (self.head + 1) % len(self.X)
        self.size = min(self.size + 1, len(self.X))

    def grow_labels(self, k: int) -> None:
        self.Y = np.concatenate([self.Y, np.zeros((len(self.Y), k), dtype=bool)], axis=1)

    def entries(self) -> np.ndarray:
        """Positions of the stored entries, oldest first."""
        if self.size < len(self.X):
            return np.arange(self.size)
        return (self.head + np.arange(self.size)) % len(self.X)

    def take(self, rows: np.ndarray, window_size: int) -> "LeafWindow":
        """A new window holding ``rows`` (oldest first), e.g. one side of a split."""
        out = LeafWindow(window_size, self.X.shape[1], self.Y.shape[1])
        rows = rows[-window_size:]
        m = len(rows)
        out.X[:m], out.Y[:m], out.T[:m] = self.X[rows], self.Y[rows], self.T[rows]
        out.size, out.head = m, m % window_size
        return out

    def predict(self, x: np.ndarray, scale: np.ndarray,
                clusters: Sequence[tuple[int, np.ndarray, int]], n_neighbors: int,
                lp_max_labels: int, lp_objective: str = "f1") -> tuple[np.ndarray, np.ndarray]:
        """``(on, proba)`` over all labels: per-cluster predictions and the weighted
        per-label votes. An empty window predicts nothing on, with probability 0."""
        n_labels = self.Y.shape[1]
        on = np.zeros(n_labels, dtype=bool)
        proba = np.zeros(n_labels)
        if self.size == 0:
            return on, proba
        X, Y, T = self.X[:self.size], self.Y[:self.size], self.T[:self.size]
        dist = np.sqrt((((X - x) / scale) ** 2).sum(axis=1))
        by_since: dict[int, list[np.ndarray]] = {}
        for _, labels, since in clusters:
            by_since.setdefault(since, []).append(labels)
        for since, groups in by_since.items():
            d = dist
            if since > 0:
                fresh = T >= since
                if fresh.sum() >= n_neighbors:
                    d = np.where(fresh, dist, np.inf)
            k = min(n_neighbors, self.size)
            idx = np.argpartition(d, k - 1)[:k] if k < self.size else np.arange(self.size)
            idx = idx[np.isfinite(d[idx])]
            w = 1.0 / (d[idx] + 1e-6)
            w /= w.sum()
            ny = Y[idx]
            for labels in groups:
                sub = ny[:, labels]
                votes = w @ sub
                proba[labels] = votes
                if 1 < len(labels) <= lp_max_labels:
                    on[labels] = _label_powerset(sub, w, votes >= 0.5, lp_objective)
                else:
                    on[labels] = votes >= 0.5
        return on, proba


def _label_powerset(sub: np.ndarray, w: np.ndarray, br: np.ndarray,
                    objective: str) -> np.ndarray:
    """The label combination predicted from the neighbours' combinations ``sub``
    (k x m bool) with weights ``w``; ``br`` is the binary-relevance combination."""
    if objective == "subset":
        codes = sub.astype(np.int64) @ (1 << np.arange(sub.shape[1], dtype=np.int64))
        uniq, inv = np.unique(codes, return_inverse=True)
        best = uniq[np.argmax(np.bincount(inv.ravel(), weights=w))]
        return ((best >> np.arange(sub.shape[1])) & 1).astype(bool)
    cand = np.vstack([sub, br[None]]).astype(float)
    inter = cand @ sub.T.astype(float)
    size = cand.sum(axis=1)[:, None] + sub.sum(axis=1)[None, :]
    f1 = np.where(size > 0, 2.0 * inter / np.maximum(size, 1.0), 1.0)
    return cand[np.argmax(f1 @ w)] > 0
