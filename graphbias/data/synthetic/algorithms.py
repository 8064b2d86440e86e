r"""Seeded graphs for classical graph algorithms (CLRS-style tasks).

:func:`algorithm_graph` draws one graph of a family:

- ``"er"``: Erdős–Rényi :math:`G(n, p)` with :math:`p = 0.5` by default, the
  CLRS benchmark's sampler;
- ``"sparse_er"``: :math:`G(n, p)` with :math:`p = \bar d / (n - 1)` (mean
  degree :math:`\bar d`, default 4), the regime of large real graphs;
- ``"grid"``: a 4-neighbour lattice of :math:`\lfloor\sqrt n\rfloor` rows
  (the last row may be partial);
- ``"tree"``: a random recursive tree (node :math:`i` attaches to a uniform
  earlier node);
- ``"power_law"``: Barabási–Albert preferential attachment (2 edges per new
  node), degree tail :math:`P(k) \propto k^{-3}`.

Node ids are randomly permuted (``shuffle=True``), so that id order, which the
algorithms use to break ties, is unrelated to the structure. Undirected graphs
store both directions of each edge. ``directed=True`` samples ordered pairs for
the Erdős–Rényi families and, for the others, keeps each lattice/tree/attachment
edge forward, backward or both ways with probability 1/3 each.

Weights (``weights="integer"``: uniform on :math:`\{1, \dots, W\}`;
``"uniform"``: uniform on :math:`(0, 1]`) are float64. ``negative=True`` (directed
only) re-weights :math:`w'(u, v) = w(u, v) + \phi(u) - \phi(v)` with a random
integer potential :math:`\phi`: some edges become negative, while every cycle keeps
its (positive) weight, so there is no negative cycle and shortest-path trees are
unchanged. :func:`with_negative_cycle` plants one reachable negative cycle.

>>> g = algorithm_graph("grid", 12, weights="integer", seed=0)
>>> g.num_nodes, g.is_undirected(), g.edge_weight.dtype
(12, True, torch.float64)
"""
from __future__ import annotations

from typing import Optional

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from ..._validation import Boolean, Integer, Options, Real, check_scalar
from ..graph import Graph
from .graphs import _block_edges, _distinct_keys

__all__ = ["FAMILIES", "algorithm_graph", "algorithm_graphs", "with_negative_cycle"]

FAMILIES = ("er", "sparse_er", "grid", "tree", "power_law")


def _undirected_pairs(family: str, n: int, p: float, avg_degree: float,
                      rng: np.random.Generator) -> np.ndarray:
    """``[2, M]`` pairs ``u < v`` (before shuffling) of an undirected graph."""
    if family in ("er", "sparse_er"):
        prob = p if family == "er" else min(1.0, avg_degree / max(n - 1, 1))
        ei = _block_edges(np.array([n], dtype=np.int64), np.array([[prob]]), rng)
        return ei[:, ei[0] < ei[1]]
    if family == "grid":
        rows = max(1, int(np.floor(np.sqrt(n))))
        cols = -(-n // rows)
        ids = np.arange(n)
        right = ids[(ids % cols < cols - 1) & (ids + 1 < n)]
        down = ids[ids + cols < n]
        return np.concatenate([np.stack([right, right + 1]), np.stack([down, down + cols])],
                              axis=1)
    if family == "tree":
        child = np.arange(1, n)
        parent = (rng.random(n - 1) * child).astype(np.int64)
        return np.stack([parent, child])
    m = min(2, n - 1)
    if m < 1:
        return np.zeros((2, 0), dtype=np.int64)
    g = nx.barabasi_albert_graph(n, m, seed=int(rng.integers(2**32)))
    e = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2).T
    return np.sort(e, axis=0)


def _directed_er(n: int, prob: float, rng: np.random.Generator) -> np.ndarray:
    """``[2, E]`` ordered pairs ``u != v`` of a directed :math:`G(n, p)`."""
    total = n * (n - 1)
    if total == 0:
        return np.zeros((2, 0), dtype=np.int64)
    count = rng.binomial(total, prob)
    keys = _distinct_keys(rng, np.array([total], dtype=np.int64),
                          np.array([count], dtype=np.int64))
    u, j = keys // (n - 1), keys % (n - 1)
    return np.stack([u, j + (j >= u)])


def algorithm_graph(family: str, num_nodes: int, *, directed: bool = False,
                    weights: Optional[str] = None, max_weight: int = 10,
                    negative: bool = False, p: float = 0.5, avg_degree: float = 4.0,
                    shuffle: bool = True,
                    seed: int | np.random.Generator | None = None) -> Graph:
    """One random graph of ``family`` (see the module docstring).

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    num_nodes : int
        Number of nodes ``n >= 1``.
    directed : bool, default=False
        Sample a directed graph.
    weights : {None, "integer", "uniform"}, default=None
        Unweighted, integer weights in ``1 .. max_weight``, or uniform on (0, 1].
    max_weight : int, default=10
        Largest integer weight ``W`` (and potential range for ``negative``), >= 1.
    negative : bool, default=False
        Add a random potential so that some weights are negative (no negative
        cycle); needs ``directed=True`` and ``weights``.
    p : float, default=0.5
        Edge probability of ``"er"``, in [0, 1].
    avg_degree : float, default=4.0
        Mean degree of ``"sparse_er"`` (>= 0).
    shuffle : bool, default=True
        Randomly permute node ids.
    seed : int, numpy.random.Generator or None, default=None
        The random stream (a Generator is advanced).

    Returns
    -------
    Graph
        With float64 ``edge_weight`` when weighted; edges sorted by
        ``(source, target)``.

    Examples
    --------
    >>> g = algorithm_graph("tree", 10, directed=True, seed=0)
    >>> g.num_nodes, g.is_undirected()
    (10, False)
    """
    family = check_scalar("family", family, Options(*FAMILIES))
    n = check_scalar("num_nodes", num_nodes, Integer(1))
    directed = check_scalar("directed", directed, Boolean())
    weights = check_scalar("weights", weights, None, Options("integer", "uniform"))
    max_weight = check_scalar("max_weight", max_weight, Integer(1))
    negative = check_scalar("negative", negative, Boolean())
    p = check_scalar("p", p, Real(0, 1))
    avg_degree = check_scalar("avg_degree", avg_degree, Real(0))
    shuffle = check_scalar("shuffle", shuffle, Boolean())
    if negative and (not directed or weights is None):
        raise ValueError("negative=True needs directed=True and weights: on an "
                         "undirected graph a negative edge is a negative 2-cycle")
    rng = np.random.default_rng(seed)
    if directed and family in ("er", "sparse_er"):
        prob = p if family == "er" else min(1.0, avg_degree / max(n - 1, 1))
        src, dst = _directed_er(n, prob, rng)
        w_pairs = None
    else:
        src, dst = _undirected_pairs(family, n, p, avg_degree, rng)
        w_pairs = None
        if weights is not None:
            w_pairs = _draw_weights(weights, src.size, max_weight, rng)
        if directed:
            way = rng.integers(0, 3, src.size)       # 0: u->v, 1: v->u, 2: both
            fwd, bwd = way != 1, way != 0
            src, dst = (np.concatenate([src[fwd], dst[bwd]]),
                        np.concatenate([dst[fwd], src[bwd]]))
            if w_pairs is not None:
                w_pairs = np.concatenate([w_pairs[fwd], w_pairs[bwd]])
        else:
            src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
            if w_pairs is not None:
                w_pairs = np.concatenate([w_pairs, w_pairs])
    w = None
    if weights is not None:
        w = w_pairs if w_pairs is not None else _draw_weights(weights, src.size,
                                                                max_weight, rng)
        if negative:
            phi = rng.integers(0, max_weight + 1, n).astype(np.float64)
            w = w + phi[src] - phi[dst]
    if shuffle:
        perm = rng.permutation(n)
        src, dst = perm[src], perm[dst]
    order = np.lexsort((dst, src))
    return Graph(np.stack([src[order], dst[order]]).astype(np.int64), n,
                 edge_weight=None if w is None else w[order], name=family)


def _draw_weights(kind: str, size: int, max_weight: int,
                  rng: np.random.Generator) -> np.ndarray:
    if kind == "integer":
        return rng.integers(1, max_weight + 1, size).astype(np.float64)
    return 1.0 - rng.random(size)                    # uniform on (0, 1]


def algorithm_graphs(family: str, num_nodes: int, count: int, *,
                     seed: int | np.random.Generator | None = None,
                     **kwargs: object) -> list[Graph]:
    """``count`` independent graphs of :func:`algorithm_graph` from one seed.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    num_nodes : int
        Number of nodes of every graph.
    count : int
        Number of graphs (>= 0).
    seed : int, numpy.random.Generator or None, default=None
        One random stream for all the graphs.
    **kwargs
        Further arguments of :func:`algorithm_graph`.

    Returns
    -------
    list of Graph

    Examples
    --------
    >>> [g.num_nodes for g in algorithm_graphs("grid", 6, 3, seed=0, weights="uniform")]
    [6, 6, 6]
    """
    count = check_scalar("count", count, Integer(0))
    rng = np.random.default_rng(seed)
    return [algorithm_graph(family, num_nodes, seed=rng, **kwargs)  # type: ignore[arg-type]
            for _ in range(count)]


def with_negative_cycle(graph: Graph, *, source: int = 0, length: int = 3,
                        seed: int | np.random.Generator | None = None) -> Graph:
    """``graph`` plus a directed cycle of total weight -1 through ``length`` nodes
    reachable from ``source`` (existing edges between them are replaced).

    Parameters
    ----------
    graph : Graph
        A directed graph (unweighted edges get weight 1).
    source : int, default=0
        The node the cycle must be reachable from.
    length : int, default=3
        Number of nodes on the cycle (>= 1; 1 is a negative self-loop).
    seed : int, numpy.random.Generator or None, default=None
        Chooses the cycle's nodes.

    Returns
    -------
    Graph
        Weighted (float64), edges sorted by ``(source, target)``.

    Examples
    --------
    >>> g = algorithm_graph("er", 6, p=1.0, directed=True, weights="integer", seed=0)
    >>> float(with_negative_cycle(g, length=3, seed=0).edge_weight.min())
    -1.0
    """
    rng = np.random.default_rng(seed)
    n = graph.num_nodes
    length = check_scalar("length", length, Integer(1))
    source = check_scalar("source", source, Integer(0, n - 1))
    adj = sp.csr_matrix((np.ones(graph.num_edges), graph.edge_index.numpy()), shape=(n, n))
    reachable = breadth_first_order(adj, source, directed=True, return_predecessors=False)
    if reachable.size < length:
        raise ValueError(f"only {reachable.size} nodes are reachable from {source}, "
                         f"a cycle of length {length} needs more")
    cycle = rng.choice(reachable, length, replace=False)
    c_src, c_dst = cycle, np.roll(cycle, -1)
    c_w = np.zeros(length)
    c_w[0] = -1.0
    ei = graph.edge_index.numpy()
    w = (np.ones(graph.num_edges) if graph.edge_weight is None
         else graph.edge_weight.double().numpy())
    keep = ~np.isin(ei[0] * n + ei[1], c_src * n + c_dst)
    src = np.concatenate([ei[0, keep], c_src])
    dst = np.concatenate([ei[1, keep], c_dst])
    w = np.concatenate([w[keep], c_w])
    order = np.lexsort((dst, src))
    return Graph(np.stack([src[order], dst[order]]), n, edge_weight=w[order],
                 name=f"{graph.name}+negative_cycle")
