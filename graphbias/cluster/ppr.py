r"""Approximate personalised PageRank by the push method of Andersen, Chung and
Lang (2006), on weighted or unweighted graphs.

Personalised PageRank with teleport probability :math:`\alpha` from a seed
distribution :math:`s` is :math:`\pi = \alpha s \sum_k (1 - \alpha)^k P^k` with the
random walk :math:`P = D^{-1} W` (row vectors; :math:`W` the weighted adjacency,
:math:`D` the weighted degrees). The push method keeps an approximation :math:`p`
and a residual :math:`r` with :math:`\pi = p + \mathrm{ppr}(r)`; a push at :math:`u`
moves :math:`\alpha r_u` into :math:`p_u` and spreads :math:`(1 - \alpha) r_u` over
the neighbours in proportion to :math:`w_{uv} / d_u`. It stops when
:math:`r_u < \varepsilon d_u` everywhere, which on an undirected graph gives

.. math:: 0 \le \pi_v - p_v < \varepsilon\, d_v \quad \text{for every node } v,

after at most :math:`1 / (\varepsilon \alpha)` units of degree-weighted work: only
nodes near the seed are ever read. Each round pushes every node above threshold at
once (valid because pushes are linear; the guarantee is the same).

>>> import torch
>>> from graphbias.data import Graph
>>> from graphbias.cluster.view import GraphView
>>> ring = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]])
>>> d = acl_ppr(GraphView.from_graph(Graph(ring, 4)), 0, alpha=0.5, epsilon=1e-6)
>>> [round(float(v), 4) for v in d.values]   # exact: 7/12, 1/6, 1/12, 1/6
[0.5833, 0.1667, 0.0833, 0.1667]
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import Real, check_scalar
from ..data.graph import as_graph
from .diffusion import Diffusion, Frontier
from .view import GraphView, check_seed_ids

__all__ = ["acl_ppr", "global_ppr"]


def acl_ppr(view: GraphView, seeds: Any, *, alpha: float = 0.15,
            epsilon: float = 1e-4) -> Diffusion:
    """Push approximation of personalised PageRank from ``seeds`` (uniform start).

    ``alpha`` in ``(0, 1)`` is the teleport probability, ``epsilon > 0`` the
    per-degree residual tolerance. Edge weights of the view are used. Returns a
    :class:`Diffusion` whose ``scores`` are ``p / d`` (the order a sweep cut uses).
    """
    if not (isinstance(alpha, (int, float)) and 0.0 < alpha < 1.0):
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if not (isinstance(epsilon, (int, float)) and epsilon > 0):
        raise ValueError(f"epsilon must be > 0, got {epsilon!r}")
    seeds = view.check_seeds(seeds)
    p, r, seen, stamp = view.scratch()
    front = Frontier(seen, stamp, seeds)
    try:
        r[seeds] = 1.0 / seeds.size
        active = seeds[r[seeds] >= epsilon * view.degree(seeds)]
        rounds = 0
        while active.size:
            rounds += 1
            ru = r[active]
            step = (1.0 - alpha) * ru / view.degree(active)
            p[active] += alpha * ru
            r[active] = 0.0
            owner, nbrs, w = view.rows(active)
            np.add.at(r, nbrs, step[owner] * w)
            cand, _ = front.add(nbrs)
            rc = r[cand]
            active = cand[(rc > 0) & (rc >= epsilon * view.degree(cand))]
        nodes = front.nodes()
        values = p[nodes].copy()
        deg = view.degree(nodes)
        residual = float(np.max(r[nodes] / deg) / epsilon) if nodes.size else 0.0
        return Diffusion(nodes, values, values / deg, nodes.size, front.edges, rounds,
                         residual)
    finally:
        touched = front.nodes()
        p[touched] = 0.0
        r[touched] = 0.0
        seen[touched] = False


def _adjacency(graph: Any) -> sp.csr_matrix:
    """The weighted adjacency (row = sender) of a scipy matrix or a graph-like."""
    adj = sp.csr_matrix(graph, dtype=np.float64) if sp.issparse(graph) \
        else as_graph(graph).to_scipy().tocsr().astype(np.float64)
    if adj.shape[0] != adj.shape[1]:
        raise ValueError(f"the adjacency matrix must be square, got shape {adj.shape}")
    if adj.nnz and not (np.isfinite(adj.data).all() and (adj.data >= 0).all()):
        raise ValueError("edge weights must be finite and nonnegative")
    return adj


def global_ppr(graph: Any, seeds: Any, *, alpha: float = 0.15,
               tol: float = 1e-6) -> np.ndarray:
    r"""Personalised PageRank of the whole graph by power iteration.

    The iteration

    .. math:: p \leftarrow \alpha s + (1 - \alpha)\, p D^{-1} W

    (row vectors; :math:`s` uniform on the seeds, :math:`W` the weighted adjacency,
    :math:`D` its row sums) runs until the L1 change of :math:`p` is below ``tol``.
    The change after :math:`k` steps is at most :math:`2 (1 - \alpha)^k`, so at most
    :math:`\lceil \log(\mathrm{tol}/2) / \log(1 - \alpha) \rceil` steps run. Unlike
    :func:`acl_ppr` it reads every edge at every step: the global baseline of local
    clustering. It equals ``networkx.pagerank(G, alpha=1 - alpha,
    personalization=...)`` when every node the walk reaches has an out-edge; mass
    that reaches a node without out-edges is dropped here, while networkx hands it
    back to the seeds.

    Parameters
    ----------
    graph : scipy sparse matrix or graph-like
        The weighted adjacency (``W[u, v]`` the weight of ``u -> v``), or anything
        :func:`graphbias.as_graph` reads. Weights must be finite and nonnegative.
    seeds : int or array-like of int
        The seed node(s); the walk restarts uniformly on them.
    alpha : float, default=0.15
        Teleport probability, in ``(0, 1)``.
    tol : float, default=1e-6
        Stop when the L1 change of one step is below ``tol`` (> 0).

    Returns
    -------
    ndarray of shape (n_nodes,)
        The PageRank vector (sums to 1 when no mass is dropped).

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.cycle_graph(4)
    >>> global_ppr(nx.to_scipy_sparse_array(g), 0, alpha=0.5, tol=1e-12).round(4)
    array([0.5833, 0.1667, 0.0833, 0.1667])
    """
    adj = _adjacency(graph)
    alpha = check_scalar("alpha", alpha, Real(0, 1, closed="neither"))
    tol = check_scalar("tol", tol, Real(0, None, closed="neither"))
    seeds = check_seed_ids(seeds, adj.shape[0])
    deg = np.asarray(adj.sum(1)).ravel()
    walk_t = (sp.diags(1.0 / np.where(deg > 0, deg, 1.0)) @ adj).T.tocsr()
    s = np.zeros(adj.shape[0])
    s[seeds] = 1.0 / seeds.size
    p = s.copy()
    for _ in range(max(1, math.ceil(math.log(tol / 2.0) / math.log(1.0 - alpha)))):
        nxt = alpha * s + (1.0 - alpha) * (walk_t @ p)
        converged = np.abs(nxt - p).sum() < tol
        p = nxt
        if converged:
            break
    return p
