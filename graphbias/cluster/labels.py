"""Noisy labels for local clustering from a classifier trained on a few nodes.

Back de Luca, Fountoulakis and Yang (2024) obtain the noisy labels from node
attributes: a classifier is fit on a handful of nodes known to be in the target
cluster (label 1) or outside it (label 0) and its predictions label every node.

>>> import numpy as np
>>> x = np.r_[np.zeros((20, 2)), np.ones((20, 2))] + 0.1 * np.arange(40)[:, None] % 0.3
>>> labels = classifier_labels(x, positives=[0, 1, 2], negatives=[30, 31, 32])
>>> labels[:20].sum(), labels[20:].sum()
(np.int64(20), np.int64(0))
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_random_state

from ..base import to_scipy_or_array

__all__ = ["classifier_labels", "sample_labelled_nodes", "f1_sets"]


def _ids(name: str, nodes: Any, n: int) -> np.ndarray:
    arr = np.unique(np.asarray(nodes).ravel())
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one node id")
    if not np.issubdtype(arr.dtype, np.integer) or arr[0] < 0 or arr[-1] >= n:
        raise ValueError(f"{name} must be integer node ids in [0, {n}), got {arr.tolist()}")
    return arr.astype(np.int64)


def classifier_labels(features: Any, positives: Any, negatives: Any, *,
                      estimator: Any = None) -> np.ndarray:
    """0/1 labels for every node predicted by ``estimator`` (default: class-balanced
    logistic regression) fit on the rows ``positives`` (label 1) and ``negatives``
    (label 0) of ``features``; the labelled nodes keep their given labels."""
    x = to_scipy_or_array(features)
    n = x.shape[0]
    pos, neg = _ids("positives", positives, n), _ids("negatives", negatives, n)
    both = np.intersect1d(pos, neg)
    if both.size:
        raise ValueError(f"node {int(both[0])} is both a positive and a negative")
    model = clone(estimator) if estimator is not None else LogisticRegression(
        class_weight="balanced", max_iter=1000)
    rows = np.concatenate([pos, neg])
    model.fit(x[rows], np.r_[np.ones(pos.size), np.zeros(neg.size)].astype(np.int64))
    labels = np.asarray(model.predict(x)).astype(np.int64)
    labels[pos], labels[neg] = 1, 0
    return labels


def sample_labelled_nodes(y: Any, target: int, num_positive: int, num_negative: int,
                          random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``num_positive`` random nodes of class ``target`` and ``num_negative`` random
    nodes of the other classes (without replacement)."""
    y = y.numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    rng = check_random_state(random_state)
    inside, outside = np.flatnonzero(y == target), np.flatnonzero(y != target)
    if num_positive > inside.size or num_negative > outside.size:
        raise ValueError(f"class {target} has {inside.size} nodes and {outside.size} "
                         f"outside: cannot sample {num_positive} and {num_negative}")
    return (np.sort(rng.choice(inside, num_positive, replace=False)),
            np.sort(rng.choice(outside, num_negative, replace=False)))


def f1_sets(predicted: Any, target: Any) -> float:
    """F1 of a predicted node set against a target node set (ids)."""
    pred, true = np.unique(np.asarray(predicted)), np.unique(np.asarray(target))
    hit = np.intersect1d(pred, true, assume_unique=True).size
    return 2.0 * hit / (pred.size + true.size) if pred.size + true.size else 1.0
