r"""Structural helpers: undirected, self-loops, coalescing, components, GCN normalisation.

Each takes a :class:`Graph` and returns a new one (or a normalised CSR); none
mutates its input.

>>> import torch
>>> from graphbias.data import Graph
>>> g = Graph(torch.tensor([[0, 1], [1, 2]]), num_nodes=3)
>>> to_undirected(g).edge_index.tolist()
[[0, 1, 1, 2], [1, 0, 2, 1]]
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import connected_components
from torch import Tensor

from ..ops import scatter
from ..ops.csr import CSR
from .graph import Graph

__all__ = ["coalesce", "to_undirected", "remove_self_loops", "add_self_loops",
           "add_remaining_self_loops", "largest_component", "gcn_norm", "gcn_norm_key",
           "normalize_features", "check_non_negative_weights"]


def _coalesce(edge_index: Tensor, weight: Optional[Tensor], num_nodes: int,
              reduce: str) -> tuple[Tensor, Optional[Tensor]]:
    key = edge_index[0] * num_nodes + edge_index[1]
    unique, inverse = torch.unique(key, sorted=True, return_inverse=True)
    ei = torch.stack([unique // num_nodes, unique % num_nodes])
    if weight is not None:
        weight = scatter(weight, inverse, unique.numel(), reduce)
    return ei, weight


def coalesce(graph: Graph, reduce: str = "sum") -> Graph:
    """Sorts edges by (source, target) and merges duplicates, reducing weights."""
    ei, w = _coalesce(graph.edge_index, graph.edge_weight, graph.num_nodes, reduce)
    return graph.replace(edge_index=ei, edge_weight=w)


def to_undirected(graph: Graph, reduce: str = "mean") -> Graph:
    """Adds the reverse of every edge, then coalesces.

    Weights of the copies of one (source, target) pair are combined by ``reduce``;
    the default ``"mean"`` leaves an already symmetric graph's weights unchanged
    (PyG's ``to_undirected`` sums them).
    """
    ei = graph.edge_index
    both = torch.cat([ei, ei.flip(0)], dim=1)
    w = graph.edge_weight
    w = None if w is None else torch.cat([w, w])
    ei, w = _coalesce(both, w, graph.num_nodes, reduce)
    return graph.replace(edge_index=ei, edge_weight=w)


def remove_self_loops(graph: Graph) -> Graph:
    keep = graph.edge_index[0] != graph.edge_index[1]
    w = None if graph.edge_weight is None else graph.edge_weight[keep]
    return graph.replace(edge_index=graph.edge_index[:, keep], edge_weight=w)


def add_self_loops(graph: Graph, fill_value: float = 1.0) -> Graph:
    """Appends a loop ``v -> v`` of weight ``fill_value`` to every node."""
    loops = torch.arange(graph.num_nodes, device=graph.device).repeat(2, 1)
    w = graph.edge_weight
    if w is not None:
        w = torch.cat([w, w.new_full((graph.num_nodes,), fill_value)])
    return graph.replace(edge_index=torch.cat([graph.edge_index, loops], 1),
                         edge_weight=w)


def _remaining_self_loops(edge_index: Tensor, weight: Optional[Tensor], num_nodes: int,
                          fill_value: float, dtype: torch.dtype
                          ) -> tuple[Tensor, Tensor]:
    w = (torch.ones(edge_index.size(1), dtype=dtype, device=edge_index.device)
         if weight is None else weight)
    is_loop = edge_index[0] == edge_index[1]
    loop_w = w.new_full((num_nodes,), fill_value)
    loop_w[edge_index[0, is_loop]] = w[is_loop]
    loops = torch.arange(num_nodes, device=edge_index.device).repeat(2, 1)
    return (torch.cat([edge_index[:, ~is_loop], loops], 1),
            torch.cat([w[~is_loop], loop_w]))


def add_remaining_self_loops(graph: Graph, fill_value: float = 1.0) -> Graph:
    """Adds loops of weight ``fill_value`` to nodes without one; existing loops
    keep their weight. Loops end up last, one per node."""
    ei, w = _remaining_self_loops(graph.edge_index, graph.edge_weight,
                                  graph.num_nodes, fill_value, torch.float32)
    return graph.replace(edge_index=ei,
                         edge_weight=w if graph.edge_weight is not None
                         or fill_value != 1.0 else None)


def _select_rows(x: Tensor, rows: Tensor) -> Tensor:
    """Rows ``rows`` of a dense or sparse CSR matrix, in that order."""
    if x.layout == torch.strided:
        return x[rows]
    crow, col, val = x.crow_indices(), x.col_indices(), x.values()
    starts, counts = crow[rows], crow[rows + 1] - crow[rows]
    new_crow = torch.zeros(rows.numel() + 1, dtype=crow.dtype, device=crow.device)
    torch.cumsum(counts, 0, out=new_crow[1:])
    total = int(new_crow[-1])
    pos = torch.repeat_interleave(starts - new_crow[:-1], counts, output_size=total) + \
        torch.arange(total, device=crow.device)
    return torch.sparse_csr_tensor(new_crow, col[pos], val[pos], (rows.numel(), x.size(1)),
                                   check_invariants=False)


def largest_component(graph: Graph) -> Graph:
    """The subgraph induced by the largest connected component.

    Components are weakly connected for a directed graph (edge directions are
    ignored). Among components of equal size the one holding the lowest node id is
    kept. Nodes keep their relative order and are renumbered ``0 .. n-1``; edges
    keep their order and weights; features, targets, masks and node labels are
    restricted to the kept nodes. This is the usual protocol for local clustering
    benchmarks.

    Parameters
    ----------
    graph : Graph
        Any graph.

    Returns
    -------
    Graph
        The component as a new graph, named ``"<name>-lcc"`` when ``graph`` has a
        name.

    Examples
    --------
    >>> g = Graph(torch.tensor([[0, 2, 3], [1, 3, 4]]), num_nodes=6, name="toy")
    >>> lcc = largest_component(g)
    >>> lcc, lcc.edge_index.tolist()
    (Graph(toy-lcc: num_nodes=3, num_edges=2), [[0, 1], [1, 2]])
    """
    ei = graph.edge_index.cpu().numpy()
    n = graph.num_nodes
    structure = sp.csr_matrix((np.ones(ei.shape[1], dtype=np.int8), (ei[0], ei[1])),
                              shape=(n, n))
    _, comp = connected_components(structure, directed=False)
    keep_np = np.flatnonzero(comp == np.bincount(comp).argmax())
    new_id = torch.full((n,), -1, dtype=torch.long, device=graph.device)
    keep = torch.from_numpy(keep_np).to(graph.device)
    new_id[keep] = torch.arange(keep.numel(), device=graph.device)
    inside = new_id[graph.edge_index[0]] >= 0  # a weak component holds both ends
    pick = lambda t: None if t is None else t[keep]  # noqa: E731
    return Graph(new_id[graph.edge_index[:, inside]], keep.numel(),
                 x=None if graph.x is None else _select_rows(graph.x, keep),
                 edge_weight=None if graph.edge_weight is None else graph.edge_weight[inside],
                 y=pick(graph.y), train_mask=pick(graph.train_mask),
                 val_mask=pick(graph.val_mask), test_mask=pick(graph.test_mask),
                 name=f"{graph.name}-lcc" if graph.name else "",
                 node_labels=None if graph.node_labels is None
                 else [graph.node_labels[i] for i in keep_np])


def check_non_negative_weights(graph: Graph, what: str) -> None:
    """Raises a ``ValueError`` naming the first negative edge weight of ``graph``
    (degrees built from them would be wrong: a square root of a negative number, or
    a transition probability below zero) for the normalisation ``what``.

    >>> g = Graph(torch.tensor([[0, 1], [1, 0]]), 2, edge_weight=torch.tensor([1.0, -2.0]))
    >>> check_non_negative_weights(g, "gcn_norm")
    Traceback (most recent call last):
    ...
    ValueError: gcn_norm needs non-negative edge weights (degrees of a normalisation); edge 1 (1 -> 0) has weight -2.0
    """
    w = graph.edge_weight
    if w is not None and bool((w < 0).any()):
        bad = int((w < 0).nonzero()[0])
        raise ValueError(f"{what} needs non-negative edge weights (degrees of a "
                         f"normalisation); edge {bad} ({int(graph.edge_index[0, bad])} -> "
                         f"{int(graph.edge_index[1, bad])}) has weight {float(w[bad])}")


def gcn_norm_key(improved: bool = False, add_self_loops: bool = True,
                 dtype: torch.dtype = torch.float32) -> tuple:
    """The key under which :func:`gcn_norm` caches its matrix on a graph (a graph
    cut out of a larger one can be given the larger graph's normalisation)."""
    return ("gcn_norm", improved, add_self_loops, dtype)


def gcn_norm(graph: Graph, improved: bool = False, add_self_loops: bool = True,
             dtype: torch.dtype = torch.float32) -> CSR:
    r"""The GCN propagation matrix :math:`\hat D^{-1/2} \hat A \hat D^{-1/2}` as a CSR.

    :math:`\hat A = A + I` (``2I`` when ``improved``) adds a loop to each node
    without one; :math:`\hat D` holds the weighted in-degrees. Rows of the CSR are
    receiving nodes, so ``ops.spmm(gcn_norm(g), x)`` is one GCN propagation. The
    result is cached on the graph (built once for every layer and epoch). Nodes of
    degree zero get zero rows.

    Parameters
    ----------
    graph : Graph
        The graph; its edge weights must be non-negative (a degree
        :math:`\hat D_{vv}` must have a real square root).
    improved : bool, default=False
        Add loops of weight 2 instead of 1.
    add_self_loops : bool, default=True
        Add a loop to each node without one (existing loops keep their weight).
    dtype : torch.dtype, default=torch.float32
        The dtype of the values.

    Returns
    -------
    CSR
        ``N x N``, row ``v`` holding :math:`\hat A_{uv} / \sqrt{\hat D_{uu} \hat D_{vv}}`
        for each edge ``u -> v``.

    Raises
    ------
    ValueError
        A negative edge weight (the message names the first one).

    Examples
    --------
    >>> g = Graph(torch.tensor([[0, 1], [1, 0]]), num_nodes=2)
    >>> gcn_norm(g).to_dense()
    tensor([[0.5000, 0.5000],
            [0.5000, 0.5000]])
    """
    key = gcn_norm_key(improved, add_self_loops, dtype)

    def build() -> CSR:
        n = graph.num_nodes
        ei, w = graph.edge_index, graph.edge_weight
        if w is not None:
            check_non_negative_weights(graph, "gcn_norm")
            w = w.to(dtype)
        if add_self_loops:
            ei, w = _remaining_self_loops(ei, w, n, 2.0 if improved else 1.0, dtype)
        elif w is None:
            w = torch.ones(ei.size(1), dtype=dtype, device=ei.device)
        deg = scatter(w, ei[1], n, "sum")
        inv_sqrt = deg.pow(-0.5)
        inv_sqrt.masked_fill_(torch.isinf(inv_sqrt), 0.0)
        norm = inv_sqrt[ei[0]] * w * inv_sqrt[ei[1]]
        return CSR.from_coo(ei[1], ei[0], (n, n), norm)

    return graph.cached(key, build)


def normalize_features(x: Tensor) -> Tensor:
    """Rows scaled to sum to one (dense or sparse CSR); all-zero rows stay zero."""
    if x.layout == torch.sparse_csr:
        crow, col, val = x.crow_indices(), x.col_indices(), x.values()
        sums = torch.segment_reduce(val, "sum", offsets=crow, axis=0, unsafe=True) \
            if val.numel() else val.new_zeros(x.size(0))
        sums = torch.where(sums == 0, torch.ones_like(sums), sums)
        scale = torch.repeat_interleave(sums, crow[1:] - crow[:-1])
        return torch.sparse_csr_tensor(crow, col, val / scale, x.shape,
                                       check_invariants=False)
    sums = x.sum(1, keepdim=True)
    return x / torch.where(sums == 0, torch.ones_like(sums), sums)
