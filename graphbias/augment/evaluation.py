"""Accuracy by node degree: where local augmentation should help (few neighbours)."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..data.graph import Graph

__all__ = ["DEGREE_BUCKETS", "degree_bucket_labels", "accuracy_by_degree"]

#: upper bounds of the default degree buckets: 1-2, 3-5, 6-10, 11 and more
DEGREE_BUCKETS = (2, 5, 10)


def degree_bucket_labels(bounds: Sequence[int] = DEGREE_BUCKETS) -> list[str]:
    """Names of the degree buckets ``[0, b_1], (b_1, b_2], ..., (b_k, inf)``.

    Parameters
    ----------
    bounds : sequence of int, default=DEGREE_BUCKETS
        Increasing upper bounds ``b_1 < ... < b_k`` of the buckets.

    Returns
    -------
    list of str
        ``k + 1`` names: ``"<=2"``, ``"3-5"``, ``"6-10"``, ``">10"`` for the default
        bounds (a bucket of one degree is named by it).

    Examples
    --------
    >>> degree_bucket_labels()
    ['<=2', '3-5', '6-10', '>10']
    >>> degree_bucket_labels((1, 2))
    ['<=1', '2', '>2']
    """
    labels = [f"<={bounds[0]}"]
    labels += [f"{lo + 1}-{hi}" if hi > lo + 1 else f"{hi}"
               for lo, hi in zip(bounds[:-1], bounds[1:])]
    return labels + [f">{bounds[-1]}"]


def accuracy_by_degree(graph: Graph, y_true: Any, y_pred: Any, mask: Optional[Any] = None,
                       bounds: Sequence[int] = DEGREE_BUCKETS) -> dict[str, dict[str, float]]:
    """Accuracy of ``y_pred`` per in-degree bucket, where local augmentation
    should help (nodes with few neighbours).

    Parameters
    ----------
    graph : Graph
        The graph; a node's degree is its number of in-edges, self-loops excluded.
    y_true, y_pred : array-like of shape (n_nodes,)
        True and predicted labels of every node.
    mask : array-like of bool of shape (n_nodes,), optional
        The nodes to score (all when ``None``).
    bounds : sequence of int, default=DEGREE_BUCKETS
        Upper bounds of the buckets (:func:`degree_bucket_labels`).

    Returns
    -------
    dict
        ``{bucket: {"accuracy": a, "nodes": n}}`` for every bucket (accuracy
        ``nan`` for an empty bucket).

    Examples
    --------
    >>> from graphbias.data.synthetic import karate_club
    >>> g = karate_club()
    >>> out = accuracy_by_degree(g, g.y, g.y)
    >>> {k: v["nodes"] for k, v in out.items()}
    {'<=2': 12, '3-5': 15, '6-10': 4, '>10': 3}
    """
    bounds = [int(b) for b in bounds]
    if not bounds or any(b < 0 for b in bounds) or sorted(set(bounds)) != bounds:
        raise ValueError(f"bounds must be strictly increasing non-negative integers, "
                         f"got {bounds!r}")
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    n = graph.num_nodes
    if y_true.shape != (n,) or y_pred.shape != (n,):
        raise ValueError(f"y_true and y_pred need one entry per node ({n}), got "
                         f"{y_true.shape[0]} and {y_pred.shape[0]}")
    keep = np.ones(n, bool) if mask is None else np.asarray(mask, bool).ravel()
    if keep.shape != (n,):
        raise ValueError(f"mask needs one entry per node ({n}), got {keep.shape[0]}")
    src, dst = graph.edge_index.numpy()
    degree = np.bincount(dst[src != dst], minlength=n)
    bucket = np.searchsorted(bounds, degree, side="left")
    correct = y_true == y_pred
    out = {}
    for b, label in enumerate(degree_bucket_labels(bounds)):
        nodes = keep & (bucket == b)
        count = int(nodes.sum())
        out[label] = {"accuracy": float(correct[nodes].mean()) if count else float("nan"),
                      "nodes": count}
    return out
