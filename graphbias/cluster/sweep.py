r"""Conductance and cluster extraction from a diffusion vector.

The conductance of a node set :math:`S` is

.. math:: \phi(S) = \frac{w(S, \bar S)}{\min(\mathrm{vol}(S), \mathrm{vol}(\bar S))},
    \qquad \mathrm{vol}(S) = \sum_{v \in S} (d_v + w_{vv}),

with :math:`w(S, \bar S)` the total weight of the edges leaving :math:`S` and
:math:`d_v = \sum_u w_{vu}` the weighted degree: a self-loop :math:`w_{vv}` is never
cut and counts twice in the volume, so :math:`\phi` equals networkx's
``conductance`` on every graph, with or without self-loops. A sweep cut orders the nodes a diffusion touched by
score and returns the prefix of least conductance; all prefixes are scored at once
from the neighbour lists of the touched nodes only.

>>> import torch
>>> from graphbias.data import Graph
>>> from graphbias.cluster.view import GraphView
>>> two_triangles = torch.tensor([[0, 0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5],
...                               [1, 2, 0, 2, 0, 1, 3, 2, 4, 5, 3, 5, 3, 4]])
>>> view = GraphView.from_graph(Graph(two_triangles, 6))
>>> conductance(view, [0, 1, 2])
0.14285714285714285
>>> nodes, phi = sweep_cut(view, np.array([0, 1, 2, 3]), np.array([0.9, 0.8, 0.7, 0.1]))
>>> nodes.tolist(), phi
([0, 1, 2], 0.14285714285714285)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .view import GraphView

__all__ = ["conductance", "volume", "sweep_cut", "support_cut"]

#: a complement volume below this fraction of the graph's is rounding error
ROUNDING = 1e-9


def _members(view: GraphView, nodes: Any) -> np.ndarray:
    arr = np.unique(np.asarray(nodes, dtype=np.int64).ravel())
    if arr.size and (arr[0] < 0 or arr[-1] >= view.num_nodes):
        raise ValueError(f"node ids must lie in [0, {view.num_nodes}), got "
                         f"{int(arr[0]) if arr[0] < 0 else int(arr[-1])}")
    return arr


def volume(view: GraphView, nodes: Any) -> float:
    r"""Volume :math:`\mathrm{vol}(S) = \sum_{v \in S} (d_v + w_{vv})` of ``nodes``
    in the view's (weighted) graph, as conductance counts it.

    Parameters
    ----------
    view : GraphView
        The graph, with its label / feature weights.
    nodes : int or array-like of int
        The node set :math:`S` (repeats are ignored).

    Returns
    -------
    float
        Its volume (a self-loop counts twice).

    Examples
    --------
    >>> from graphbias.data import Graph
    >>> loop = Graph([[0, 0, 1, 1, 2], [0, 1, 0, 2, 1]], 3)
    >>> volume(GraphView.from_graph(loop), [0, 1])       # (2 + 1) + 2
    5.0
    """
    members = _members(view, nodes)
    return _volume(view, members, view.rows(members))


def _volume(view: GraphView, members: np.ndarray,
            rows: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
    owner, nbrs, w = rows
    return float((view.degree(members) + view.self_loops(owner, nbrs, w, members)).sum())


def conductance(view: GraphView, nodes: Any) -> float:
    r"""Conductance of ``nodes`` in the view's (weighted) graph.

    Parameters
    ----------
    view : GraphView
        The graph, with its label / feature weights.
    nodes : int or array-like of int
        The node set :math:`S` (repeats are ignored).

    Returns
    -------
    float
        :math:`\phi(S)` (see the module docstring); ``inf`` for an empty set or a
        set holding all the volume.

    Examples
    --------
    >>> from graphbias.data import Graph
    >>> loop = Graph([[0, 0, 1, 1, 2], [0, 1, 0, 2, 1]], 3)
    >>> conductance(GraphView.from_graph(loop), [0])     # 1 / min(1 + 2, 2 + 1)
    0.3333333333333333
    """
    members = _members(view, nodes)
    if members.size == 0:
        return float("inf")
    rows = view.rows(members)
    _, nbrs, w = rows
    pos = np.minimum(np.searchsorted(members, nbrs), members.size - 1)
    cut = float(w[members[pos] != nbrs].sum())
    vol = _volume(view, members, rows)
    denom = min(vol, view.volume() - vol)
    return cut / denom if denom > ROUNDING * view.volume() else float("inf")


def sweep_cut(view: GraphView, nodes: np.ndarray,
              scores: np.ndarray) -> tuple[np.ndarray, float]:
    """The prefix of least conductance of ``nodes`` ranked by decreasing score.

    All prefixes are scored at once from the rows of the ranked nodes only.

    Parameters
    ----------
    view : GraphView
        The graph the diffusion ran on.
    nodes : ndarray of int
        The nodes a diffusion touched.
    scores : ndarray of float
        Their scores (only positive scores are ranked; ties keep the order of
        ``nodes``).

    Returns
    -------
    nodes : ndarray of int
        The best prefix, sorted by id (empty when no score is positive).
    conductance : float
        Its conductance (``inf`` when empty).

    Examples
    --------
    >>> from graphbias.data import Graph
    >>> path = GraphView.from_graph(Graph([[0, 1, 1, 2], [1, 0, 2, 1]], 3))
    >>> sweep_cut(path, np.array([0, 1, 2]), np.array([0.5, 0.2, 0.0]))
    (array([0]), 1.0)
    """
    keep = scores > 0
    if not keep.any():
        return np.empty(0, dtype=np.int64), float("inf")
    order = np.argsort(-scores[keep], kind="stable")
    ranked = nodes[keep][order]
    k = ranked.size
    owner, nbrs, w = view.rows(ranked)
    by_id = np.argsort(ranked)
    sorted_ids = ranked[by_id]
    pos = np.minimum(np.searchsorted(sorted_ids, nbrs), k - 1)
    inside = sorted_ids[pos] == nbrs
    # an edge is internal to every prefix that holds both ends: from the later rank on
    joins = np.maximum(owner[inside], by_id[pos[inside]])
    internal = np.cumsum(np.bincount(joins, w[inside], minlength=k))
    degree = view.degree(ranked)
    # rounding leaves the prefix holding (almost) all the volume a tiny, possibly
    # negative, cut and complement: it is not a cluster (conductance inf)
    cut = np.maximum(np.cumsum(degree) - internal, 0.0)
    vol = np.cumsum(degree + view.self_loops(owner, nbrs, w, ranked))
    denom = np.minimum(vol, view.volume() - vol)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(denom > ROUNDING * view.volume(), cut / denom, np.inf)
    best = int(np.argmin(phi))
    return np.sort(ranked[:best + 1]), float(phi[best])


def support_cut(view: GraphView, nodes: np.ndarray,
                scores: np.ndarray) -> tuple[np.ndarray, float]:
    """The nodes with a positive score and their conductance.

    Parameters
    ----------
    view : GraphView
        The graph the diffusion ran on.
    nodes : ndarray of int
        The nodes a diffusion touched.
    scores : ndarray of float
        Their scores.

    Returns
    -------
    nodes : ndarray of int
        The nodes with a positive score, sorted.
    conductance : float
        Their conductance.

    Examples
    --------
    >>> from graphbias.data import Graph
    >>> path = GraphView.from_graph(Graph([[0, 1, 1, 2], [1, 0, 2, 1]], 3))
    >>> support_cut(path, np.array([2, 0, 1]), np.array([0.1, 0.5, 0.0]))
    (array([0, 2]), 1.0)
    """
    members = np.sort(nodes[scores > 0])
    return members, conductance(view, members)
