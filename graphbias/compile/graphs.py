"""Reading algorithm inputs and batching graphs as one disjoint union.

Node ids matter to these algorithms (ties are broken by the smaller id), so a
networkx graph must have the integers ``0 .. n-1`` as nodes; edge weights are
read in float64 (the exactness of Bellman-Ford depends on it).
"""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from ..data.graph import Graph, as_graph
from ..ops.csr import CSR

__all__ = ["read_graph", "read_graphs", "check_source", "GraphBatch"]

# Distances and ids must stay far below the sentinel of the compiled layers.
MAX_MAGNITUDE = 2.0 ** 46


def _from_networkx(g: Any, where: str) -> Graph:
    nodes = list(g.nodes)
    for v in nodes:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, Integral):
            raise ValueError(f"{where}: node ids must be integers 0..n-1, found "
                             f"{v!r} ({type(v).__name__}); relabel with "
                             "networkx.convert_node_labels_to_integers(G, ordering='sorted')")
    n = len(nodes)
    if n == 0:
        raise ValueError(f"{where}: the graph is empty: it has no nodes")
    if sorted(int(v) for v in nodes) != list(range(n)):
        raise ValueError(f"{where}: node ids must be exactly 0..{n - 1}, found ids from "
                         f"{min(nodes)} to {max(nodes)}; relabel with "
                         "networkx.convert_node_labels_to_integers(G, ordering='sorted')")
    src, dst, w = [], [], []
    weighted = g.number_of_edges() > 0 and all("weight" in d for *_, d in g.edges(data=True))
    for u, v, d in g.edges(data=True):
        pairs = [(u, v)] if g.is_directed() or u == v else [(u, v), (v, u)]
        for a, b in pairs:
            src.append(int(a))
            dst.append(int(b))
            w.append(float(d.get("weight", 1.0)))
    ei = np.array([src, dst], dtype=np.int64).reshape(2, -1)
    return Graph(ei, n, edge_weight=np.array(w, dtype=np.float64) if weighted else None)


def read_graph(obj: Any, *, where: str = "graph") -> Graph:
    """A :class:`Graph` from anything :func:`~graphbias.data.as_graph` reads; a
    networkx graph must have nodes ``0 .. n-1`` (ValueError otherwise)."""
    if type(obj).__module__.startswith("networkx"):
        return _from_networkx(obj, where)
    try:
        return as_graph(obj)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


def read_graphs(graphs: Any) -> tuple[list[Graph], bool]:
    """``(graphs, single)``: a list of graphs, and whether one graph was given."""
    if isinstance(graphs, (list, tuple)) and graphs and not _is_edge_list(graphs):
        return [read_graph(g, where=f"graph {i}") for i, g in enumerate(graphs)], False
    return [read_graph(graphs)], True


def _is_edge_list(obj: Sequence[Any]) -> bool:
    """A ``[2, E]`` nested list of ints (one edge_index), not a list of graphs."""
    return len(obj) == 2 and all(isinstance(r, (list, tuple)) and
                                 all(isinstance(x, Integral) for x in r) for r in obj)


def check_source(source: Any, num_nodes: int, where: str = "graph") -> int:
    """``source`` as an int node id of a graph with ``num_nodes`` nodes."""
    if isinstance(source, (bool, np.bool_)) or not isinstance(source, Integral):
        raise ValueError(f"{where}: source must be an integer node id, got {source!r} "
                         f"({type(source).__name__})")
    if not 0 <= int(source) < num_nodes:
        raise ValueError(f"{where}: source {source} is not a node (ids are 0..{num_nodes - 1})")
    return int(source)


def check_sources(source: Any, graphs: Sequence[Graph]) -> list[int]:
    """One source per graph.

    Parameters
    ----------
    source : int, sequence of int, numpy array or torch tensor
        One id for every graph (an int, a numpy integer, a 0-d array or tensor),
        or one id per graph (a list, tuple, 1-d array or tensor).
    graphs : sequence of Graph
        The graphs the sources belong to.

    Returns
    -------
    list of int
        The checked source of each graph.

    Examples
    --------
    >>> g = Graph([[0, 1], [1, 0]], 2)
    >>> check_sources(np.array(1), [g, g]), check_sources([0, 1], [g, g])
    ([1, 1], [0, 1])
    """
    if isinstance(source, (np.ndarray, Tensor)):
        source = source.tolist()            # a 0-d array gives one python scalar
    if isinstance(source, (list, tuple)):
        sources = list(source)
        if len(sources) != len(graphs):
            raise ValueError(f"got {len(sources)} sources for {len(graphs)} graphs")
    else:
        sources = [source] * len(graphs)
    return [check_source(s, g.num_nodes, f"graph {i}")
            for i, (s, g) in enumerate(zip(sources, graphs))]


@dataclass
class GraphBatch:
    """Several graphs as one disjoint union: graph ``g`` holds nodes
    ``ptr[g] .. ptr[g+1]-1``; ``csr`` is the in-neighbour CSR (rows receive) with
    float64 edge weights (1 where a graph is unweighted); ``ids`` are the nodes'
    local ids as float64 (0..n_g-1), the tie-breaking key."""

    csr: CSR
    ptr: Tensor
    batch: Tensor
    ids: Tensor
    sizes: list[int]

    @classmethod
    def from_graphs(cls, graphs: Sequence[Graph],
                    device: Optional[torch.device | str] = None) -> "GraphBatch":
        sizes = [g.num_nodes for g in graphs]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        ei = torch.cat([g.edge_index.cpu() + int(o) for g, o in zip(graphs, offsets)], 1)
        w = torch.cat([torch.ones(g.num_edges, dtype=torch.float64)
                       if g.edge_weight is None else g.edge_weight.detach().cpu().double()
                       for g in graphs])
        total = int(offsets[-1])
        ptr = torch.from_numpy(offsets)
        batch = torch.repeat_interleave(torch.arange(len(graphs)), torch.tensor(sizes))
        ids = (torch.arange(total) - ptr[:-1][batch]).double()
        csr = CSR.from_coo(ei[1], ei[0], (total, total), w)
        if device is not None:
            csr = csr.to(device)
            ptr, batch, ids = ptr.to(device), batch.to(device), ids.to(device)
        return cls(csr, ptr, batch, ids, sizes)

    @property
    def num_graphs(self) -> int:
        return len(self.sizes)

    @property
    def num_nodes(self) -> int:
        return int(self.ids.numel())

    @property
    def device(self) -> torch.device:
        return self.ids.device
