"""Input checks shared by every network treatment-effect learner."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch
from sklearn.utils.validation import check_array

from ..base import resolve_graph_input
from ..data import Graph

__all__ = ["check_effect_inputs", "check_covariates", "neighbour_means"]


def check_covariates(X: Any, graph: Any, n_features: Optional[int] = None
                     ) -> tuple[np.ndarray, Graph]:
    """``X`` as float64 ``[n, d]`` (finite, writable: torch shares its memory) and
    the graph with one node per row."""
    X = np.require(check_array(X, dtype=np.float64, ensure_2d=True), requirements="W")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} columns, the learner was fitted on {n_features}")
    return X, resolve_graph_input(X, graph, n_rows=X.shape[0])


def check_effect_inputs(Y: Any, T: Any, X: Any, graph: Any, W: Any = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray],
                                   Graph]:
    """Validated ``Y`` (finite), ``T`` (binary, both values present), ``X``, ``W``
    and graph; errors say what is wrong and where."""
    X, g = check_covariates(X, graph)
    n = X.shape[0]
    Y = np.require(np.asarray(Y, dtype=np.float64).reshape(-1), requirements="W")
    T = np.require(np.asarray(T, dtype=np.float64).reshape(-1), requirements="W")
    for name, v in (("Y", Y), ("T", T)):
        if v.shape[0] != n:
            raise ValueError(f"{name} has {v.shape[0]} entries but X has {n} rows")
    bad = np.flatnonzero(~np.isfinite(Y))
    if bad.size:
        raise ValueError(f"Y has {bad.size} NaN or infinite outcomes (first at row {bad[0]})")
    values = np.unique(T[np.isfinite(T)])
    if not np.all(np.isfinite(T)) or not set(values.tolist()) <= {0.0, 1.0}:
        shown = values[:5].tolist()
        raise ValueError(f"T must be binary 0/1 (a treatment indicator), got values {shown}")
    if values.size < 2:
        raise ValueError(f"T is constant ({values[0]:g} for every node): effects cannot "
                         "be estimated without treated and control nodes")
    if W is not None:
        W = check_array(W, dtype=np.float64, ensure_2d=True)
        if W.shape[0] != n:
            raise ValueError(f"W has {W.shape[0]} rows but X has {n}")
    return Y, T, X, W, g


def neighbour_means(X: np.ndarray, graph: Graph) -> np.ndarray:
    """Mean of each node's in-neighbours' rows of ``X`` (zeros for isolated nodes)."""
    from .. import ops

    return ops.spmm(graph, torch.from_numpy(X), "mean").numpy()
