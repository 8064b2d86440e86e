"""Reading algorithm inputs and batching graphs as one disjoint union.

Graphs are read by :func:`graphbias.data.as_graph`, networkx graphs included: node
ids follow ``G.nodes`` order (they break ties, the smaller id winning) and the
networkx names are kept as ``Graph.node_labels``, so a source may be given by its
name. Edge weights are read in float64 (the exactness of Bellman-Ford depends on
it); an edge without a weight weighs 1.
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
from .layers import BIG

__all__ = ["read_graph", "read_graphs", "check_source", "check_sources", "GraphBatch",
           "sentinel"]

# Distances and ids must stay far below the sentinel of the compiled layers.
MAX_MAGNITUDE = 2.0 ** 46


def _is_networkx(obj: Any) -> bool:
    return type(obj).__module__.startswith("networkx")


def _float64_weights(g: Any) -> np.ndarray:
    """The ``weight`` of every edge of a networkx graph in float64 (1 where an edge
    has none), in the edge order of :func:`~graphbias.data.as_graph`: each edge
    ``u -> v`` of ``G.edges``, followed by ``v -> u`` when ``G`` is undirected and
    ``u != v``."""
    both = not g.is_directed()
    return np.array([w for u, v, w in g.edges(data="weight", default=1.0)
                     for w in ((w, w) if both and u != v else (w,))], dtype=np.float64)


def read_graph(obj: Any, *, where: str = "graph") -> Graph:
    """A :class:`Graph` from anything :func:`~graphbias.data.as_graph` reads, with
    networkx edge weights in float64.

    Parameters
    ----------
    obj : graph-like
        A Graph, networkx graph, scipy.sparse or torch sparse adjacency, PyG Data
        or ``[2, E]`` edge_index.
    where : str, default="graph"
        Names the graph in error messages.

    Returns
    -------
    Graph
        A networkx graph keeps its node names as ``node_labels``.

    Raises
    ------
    ValueError
        Whatever :func:`~graphbias.data.as_graph` refuses, prefixed by ``where``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_weighted_edges_from([("a", "b", 0.1), ("b", "c", 0.2)])
    >>> g = read_graph(G)
    >>> g.node_labels, g.edge_weight.dtype, g.edge_weight.tolist()
    (['a', 'b', 'c'], torch.float64, [0.1, 0.2])
    """
    try:
        graph = as_graph(obj)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    if _is_networkx(obj) and graph.edge_weight is not None:
        graph = graph.replace(edge_weight=_float64_weights(obj))
    return graph


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


def _source_id(source: Any, graph: Graph, where: str) -> int:
    """The node id of ``source``: a node label of a labelled graph, else an id."""
    if source is None:
        return 0
    if graph.node_labels is None:
        return check_source(source, graph.num_nodes, where)
    try:
        return int(graph.index_of(source))
    except ValueError as err:
        raise ValueError(f"{where}: source {source!r} is not a node ({err})") from None


def check_sources(source: Any, graphs: Sequence[Graph]) -> list[int]:
    """One source node id per graph.

    Parameters
    ----------
    source : node, sequence of nodes, numpy array, torch tensor or None
        One node for every graph (an int, a numpy integer, a 0-d array or tensor,
        or a node label of graphs that have ``node_labels``), or one per graph (a
        list, tuple, 1-d array or tensor). None: node 0 (the first node) of every
        graph. A tuple is always one source per graph: give a tuple label as
        ``[label]``.
    graphs : sequence of Graph
        The graphs the sources belong to.

    Returns
    -------
    list of int
        The checked node id of each graph's source.

    Raises
    ------
    ValueError
        A count of sources other than the number of graphs; a source that is not a
        node of its graph (an unknown label, an id out of range, a non-integer id
        of a graph without labels).

    Examples
    --------
    >>> g = Graph([[0, 1], [1, 0]], 2)
    >>> check_sources(np.array(1), [g, g]), check_sources([0, 1], [g, g])
    ([1, 1], [0, 1])
    >>> named = Graph([[0, 1], [1, 2]], 3, node_labels=[2, 0, 1])
    >>> check_sources(0, [named]), check_sources(None, [named])
    ([1], [0])
    """
    if isinstance(source, (np.ndarray, Tensor)):
        source = source.tolist()            # a 0-d array gives one python scalar
    if isinstance(source, (list, tuple)):
        sources = list(source)
        if len(sources) != len(graphs):
            raise ValueError(f"got {len(sources)} sources for {len(graphs)} graphs")
    else:
        sources = [source] * len(graphs)
    return [_source_id(s, g, f"graph {i}") for i, (s, g) in enumerate(zip(sources, graphs))]


@dataclass
class GraphBatch:
    """Several graphs as one disjoint union: graph ``g`` holds nodes
    ``ptr[g] .. ptr[g+1]-1``; ``csr`` is the in-neighbour CSR (rows receive) with
    float64 edge weights (1 where a graph is unweighted); ``ids`` are the nodes'
    local ids as float64 (0..n_g-1), the tie-breaking key; ``big`` is the
    sentinel :math:`B` of the compiled layers (see :func:`sentinel`)."""

    csr: CSR
    ptr: Tensor
    batch: Tensor
    ids: Tensor
    sizes: list[int]
    big: float = BIG

    @classmethod
    def from_graphs(cls, graphs: Sequence[Graph],
                    device: Optional[torch.device | str] = None,
                    big: float = BIG) -> "GraphBatch":
        """The disjoint union of ``graphs`` on ``device`` with sentinel ``big``."""
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
        return cls(csr, ptr, batch, ids, sizes, float(big))

    @property
    def num_graphs(self) -> int:
        return len(self.sizes)

    @property
    def num_nodes(self) -> int:
        return int(self.ids.numel())

    @property
    def device(self) -> torch.device:
        return self.ids.device

    def magnitude(self) -> float:
        """A bound on every id, time and distance a run on this batch produces:
        the largest ``n_g`` times ``max(1, max |w|)``, doubled (DFS times reach
        ``2 n``)."""
        values = self.csr.values
        weight = float(values.abs().max()) if values is not None and values.numel() else 1.0
        return 2.0 * max(self.sizes) * max(1.0, weight)


def sentinel(magnitude: float) -> float:
    """The smallest power of two at least 16 times ``magnitude``: a sentinel
    :math:`B` far enough above every value of a run (the exact runs use
    :math:`2^{50}` and refuse values from :math:`2^{46}`, the same ratio).

    Examples
    --------
    >>> sentinel(32.0), sentinel(1.0)
    (512.0, 16.0)
    """
    return float(2.0 ** np.ceil(np.log2(16.0 * max(magnitude, 1.0))))
