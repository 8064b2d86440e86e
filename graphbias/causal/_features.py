"""Graph features of the learners: propagated covariates and neighbour means."""
from __future__ import annotations

import numpy as np
import torch

from ..data import Graph

__all__ = ["propagated", "neighbour_means"]


def propagated(X: np.ndarray, graph: Graph, hops: int) -> np.ndarray:
    r"""The propagated covariates :math:`[X, \hat A X, \dots, \hat A^{K} X]` with
    :math:`\hat A` the GCN-normalised adjacency (self-loops added) and :math:`K` =
    ``hops``: the features of the simplified graph convolution (SGC, Wu et al. 2019).

    Parameters
    ----------
    X : ndarray of shape (n_nodes, n_features)
        Node features (float64).
    graph : Graph
        The graph, one node per row of ``X``.
    hops : int
        Propagation steps :math:`K` (0: ``X`` itself).

    Returns
    -------
    ndarray of shape (n_nodes, (hops + 1) * n_features)
        Blocks of ``n_features`` columns, hop 0 first.

    Examples
    --------
    >>> g = Graph(torch.tensor([[0, 1], [1, 0]]), 2)
    >>> propagated(np.array([[1.0], [3.0]]), g, 1).round(6).tolist()
    [[1.0, 2.0], [3.0, 2.0]]
    """
    from .. import ops
    from ..data.transforms import gcn_norm

    a = gcn_norm(graph.to("cpu"), dtype=torch.float64)
    parts = [torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))]
    for _ in range(hops):
        parts.append(ops.spmm(a, parts[-1]))
    return torch.cat(parts, 1).numpy()


def neighbour_means(X: np.ndarray, graph: Graph) -> np.ndarray:
    """Mean of each node's in-neighbours' rows of ``X`` (zeros for isolated nodes).

    Parameters
    ----------
    X : ndarray of shape (n_nodes, n_features)
        Node features (float64).
    graph : Graph
        The graph, one node per row of ``X``.

    Returns
    -------
    ndarray of shape (n_nodes, n_features)

    Examples
    --------
    >>> g = Graph(torch.tensor([[0, 2], [1, 1]]), 3)
    >>> neighbour_means(np.array([[1.0], [5.0], [3.0]]), g).ravel().tolist()
    [0.0, 2.0, 0.0]
    """
    from .. import ops

    return ops.spmm(graph.to("cpu"), torch.from_numpy(X), "mean").numpy()
