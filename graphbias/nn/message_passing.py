r"""A PyG-style message-passing base class on :mod:`graphbias.ops`.

.. math::
    \mathbf{h}_i' = \gamma\Big(\mathbf{h}_i,\ \bigoplus_{j \in \mathcal{N}(i)}
    \phi(\mathbf{h}_i, \mathbf{h}_j, w_{ji})\Big)

``message`` is :math:`\phi`, ``aggregate`` is :math:`\oplus` (sum, mean, max, min),
``update`` is :math:`\gamma`. A layer that keeps the default message
:math:`w_{ji}\mathbf{h}_j` runs as one fused sparse product (:func:`ops.spmm`);
a layer that overrides ``message`` gathers per-edge messages and reduces them in
CSR order with :func:`ops.segment_csr`.

The graph may be a :class:`~graphbias.data.Graph`, a ``[2, E]`` ``edge_index``
tensor (source, target, as in PyG) or a :class:`~graphbias.ops.CSR` whose rows
are the receiving nodes. The graph built from an ``edge_index`` tensor (and every
normalisation cached on it) is kept for the next call with the same tensor, so a
layer called with a raw ``edge_index`` costs about what it costs with a Graph.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Optional, Union

import torch
from torch import Tensor

from .. import ops
from ..data.graph import Graph, as_graph
from ..ops._versions import StampedCache
from ..ops.csr import CSR

GraphLike = Union[Graph, CSR, Tensor]

__all__ = ["MessagePassing", "GraphLike", "resolve_graph", "reject_edge_weight",
           "GRAPH_CACHE_SIZE"]

#: how many graphs built from raw ``edge_index`` tensors are kept (least recently
#: used first out)
GRAPH_CACHE_SIZE = 8

_graphs = StampedCache(GRAPH_CACHE_SIZE)


def _graph_of_edge_index(edge_index: Tensor, num_nodes: int,
                         edge_weight: Optional[Tensor]) -> Graph:
    """The Graph of ``edge_index`` (and ``edge_weight``), built once per tensor.

    The cache key is the identity of the tensors and their version counters: an
    in-place change of either builds a new graph. Weights that require a
    gradient are never cached (each call needs its own autograd graph).
    """
    tensors = (edge_index,) if edge_weight is None else (edge_index, edge_weight)
    if edge_weight is not None and edge_weight.requires_grad and torch.is_grad_enabled():
        return Graph(edge_index, num_nodes, edge_weight=edge_weight)
    return _graphs.get((id(edge_index), id(edge_weight), num_nodes), tensors,
                       lambda: Graph(edge_index, num_nodes, edge_weight=edge_weight))


def resolve_graph(graph: Any, num_nodes: int,
                  edge_weight: Optional[Tensor] = None) -> Union[Graph, CSR]:
    """The graph a layer propagates over, checked against the number of nodes.

    Parameters
    ----------
    graph : Graph, CSR, Tensor or any input of :func:`~graphbias.data.as_graph`
        A Graph or CSR is used as is. A ``[2, E]`` ``edge_index`` tensor gives a
        Graph built on first use and kept (with everything cached on it, such as
        the GCN normalisation) for later calls with the same, unmodified tensor.
        Other inputs (numpy arrays, networkx, scipy.sparse, PyG ``Data``) are
        converted on every call.
    num_nodes : int
        Rows of the node features: the number of nodes (a CSR's columns).
    edge_weight : Tensor, optional
        ``[E]`` weights in the order of the edges of ``graph``; they replace a
        Graph's own weights. Not accepted with a CSR (its values are the weights).

    Returns
    -------
    Graph or CSR

    Raises
    ------
    ValueError
        If the graph's node count differs from ``num_nodes``, the graph cannot be
        read, or ``edge_weight`` comes with a CSR.

    Examples
    --------
    >>> import torch
    >>> edge_index = torch.tensor([[0, 1], [1, 2]])
    >>> resolve_graph(edge_index, 3) is resolve_graph(edge_index, 3)
    True
    """
    if isinstance(graph, CSR):
        if edge_weight is not None:
            raise ValueError("edge_weight was given with a CSR: its values are the "
                             "weights (use csr.with_values(weights))")
        if graph.num_cols != num_nodes:
            raise ValueError(f"x has {num_nodes} rows but the graph has "
                             f"{graph.num_cols} nodes")
        return graph
    if isinstance(graph, Tensor) and graph.layout == torch.strided:
        if edge_weight is not None and not isinstance(edge_weight, Tensor):
            raise ValueError(f"edge_weight must be a torch.Tensor, got "
                             f"{type(edge_weight).__name__}")
        return _graph_of_edge_index(graph, num_nodes, edge_weight)
    g = as_graph(graph)
    if g.num_nodes != num_nodes:
        raise ValueError(f"x has {num_nodes} rows but the graph has {g.num_nodes} nodes")
    return g if edge_weight is None else g.replace(edge_weight=edge_weight)


def reject_edge_weight(layer: str, edge_weight: Optional[Tensor]) -> None:
    """Refuses edge weights given to a layer that has no use for them, rather than
    dropping them silently.

    Parameters
    ----------
    layer : str
        The layer's name, for the message.
    edge_weight : Tensor or None
        What the caller passed.

    Raises
    ------
    ValueError
        If ``edge_weight`` is not None.

    Examples
    --------
    >>> reject_edge_weight("SAGEConv", None)
    """
    if edge_weight is not None:
        raise ValueError(f"{layer} does not use edge weights (as in torch_geometric); "
                         "pass edge_weight=None")


class _Edges:
    """One graph input seen edge by edge: the CSR that aggregates (rows receive),
    each edge's sender and receiver, its default weight, and ``order``, which
    puts per-edge tensors in CSR order (None when they already are)."""

    def __init__(self, graph: Union[Graph, CSR]) -> None:
        if isinstance(graph, CSR):
            self.csr, self.order = graph, None
            self.src, self.dst, self.weight = graph.indices, graph.row(), graph.values
        else:
            self.csr, self.order = graph.csr, graph.csr.perm
            self.src, self.dst = graph.edge_index[0], graph.edge_index[1]
            self.weight = graph.edge_weight

    def to_csr_order(self, per_edge: Tensor) -> Tensor:
        return per_edge if self.order is None else per_edge.index_select(0, self.order)


_SPECIAL = ("index", "ptr", "size_i", "size_j", "edge_index_i", "edge_index_j")


@functools.lru_cache(maxsize=None)
def _signature(cls: type) -> tuple[tuple[str, ...], bool, frozenset]:
    """Names of ``cls.message``'s parameters (``self`` left out), whether it takes
    ``**kwargs``, and the names that have defaults."""
    params = list(inspect.signature(cls.message).parameters.values())[1:]
    names = tuple(p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
    defaults = frozenset(p.name for p in params if p.default is not p.empty)
    return names, var_kw, defaults


def _describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"shape {tuple(value.shape)}"
    return type(value).__name__


class MessagePassing(torch.nn.Module):
    r"""Base class of message-passing layers; subclasses call :meth:`propagate`.

    Parameters
    ----------
    aggr : {"sum", "mean", "max", "min"}, default="sum"
        The reduction :math:`\oplus` over each node's incoming messages.

    Attributes
    ----------
    aggr : str
        The reduction.

    Examples
    --------
    A layer written as in PyG: ``message`` declares what it needs, ``x_j`` being
    ``x`` at the sender of each edge and ``x_i`` at its receiver.

    >>> import torch
    >>> class Diff(MessagePassing):
    ...     def forward(self, x, edge_index):
    ...         return self.propagate(edge_index, x=x)
    ...     def message(self, x_i, x_j):
    ...         return x_j - x_i
    >>> Diff("sum")(torch.tensor([[1.], [2.], [4.]]), torch.tensor([[0, 1], [1, 2]]))
    tensor([[ 0.],
            [-1.],
            [-2.]])
    """

    def __init__(self, aggr: str = "sum") -> None:
        super().__init__()
        self.aggr = ops._checks.check_reduce(aggr)

    def _fused(self) -> bool:
        return type(self).message is MessagePassing.message

    def propagate(self, edge_index: Any, x: Optional[Tensor] = None,
                  **kwargs: Any) -> Tensor:
        r"""Aggregates messages along the edges, from senders to receivers.

        Parameters
        ----------
        edge_index : Tensor, Graph or CSR
            ``[2, E]`` (source, target) pairs as in PyG, a Graph, or a CSR whose
            rows receive from its columns.
        x : Tensor, optional
            Node features ``[N, ...]``; :meth:`message` sees them as ``x_j``
            (sender) and ``x_i`` (receiver).
        **kwargs
            More inputs of :meth:`message`, by name. For a parameter ``name_i``
            or ``name_j`` of :meth:`message`, ``kwargs["name"]`` holds node-level
            values, gathered at each edge's receiver or sender; any other
            parameter gets ``kwargs`` of the same name unchanged (per-edge
            tensors in the order of the edges: ``edge_index``'s columns, the
            Graph's edges, or CSR order for a CSR). ``edge_weight`` defaults to
            the graph's weights. As in PyG, ``index`` (each edge's receiver),
            ``ptr`` (the CSR row pointer, for messages in CSR order), ``size_i``,
            ``size_j``, ``edge_index_i`` and ``edge_index_j`` are provided.

        Returns
        -------
        Tensor
            ``[num_receivers, ...]``, after :meth:`update`.

        Raises
        ------
        ValueError
            If a node-level input has the wrong number of rows, or
            :meth:`message` needs an input that was not given.
        """
        num_nodes = self._num_nodes(edge_index, x, kwargs)
        graph = resolve_graph(edge_index, num_nodes)
        edges = _Edges(graph)
        if x is not None:
            kwargs["x"] = x
        weight = kwargs.get("edge_weight", edges.weight)
        if weight is not None and (not isinstance(weight, Tensor) or weight.dim() == 0
                                   or weight.size(0) != edges.csr.nnz):
            raise ValueError(f"edge_weight must be a tensor with one entry per edge "
                             f"({edges.csr.nnz}), got {_describe(weight)}")
        if self._fused() and x is not None and set(kwargs) <= {"x", "edge_weight"}:
            csr = edges.csr if weight is edges.weight else \
                edges.csr.with_values(None if weight is None else edges.to_csr_order(weight))
            return self.update(ops.spmm(csr, x, self.aggr))
        msg = self.message(**self._message_args(edges, kwargs))
        return self.update(self.aggregate(edges.to_csr_order(msg), edges.csr))

    def _num_nodes(self, edge_index: Any, x: Optional[Tensor], kwargs: dict) -> int:
        if isinstance(edge_index, CSR):
            return edge_index.num_cols
        if x is not None:
            return x.size(0)
        if isinstance(edge_index, Graph):
            return edge_index.num_nodes
        lifted = [kwargs[n[:-2]] for n in self._message_params()[0]
                  if n.endswith(("_i", "_j")) and isinstance(kwargs.get(n[:-2]), Tensor)]
        if not lifted:
            raise ValueError("propagate with an edge_index needs node features (x=... or "
                             "a tensor that message reads as name_i / name_j) to know "
                             "the number of nodes")
        return lifted[0].size(0)

    def _message_params(self) -> tuple[tuple[str, ...], bool, frozenset]:
        return _signature(type(self))

    def _message_args(self, edges: _Edges, data: dict[str, Any]) -> dict[str, Any]:
        names, var_kw, defaults = self._message_params()
        csr = edges.csr
        special = {"index": edges.dst, "ptr": csr.indptr, "size_i": csr.num_rows,
                   "size_j": csr.num_cols, "edge_index_i": edges.dst,
                   "edge_index_j": edges.src}
        args: dict[str, Any] = {}
        for name in names:
            base, side = name[:-2], name[-2:]
            if name in data:
                args[name] = data[name]
            elif side in ("_i", "_j") and isinstance(data.get(base), Tensor):
                args[name] = self._lift(base, data[base], edges, side == "_i")
            elif name in _SPECIAL:
                args[name] = special[name]
            elif name == "edge_weight" and edges.weight is not None:
                args[name] = edges.weight
            elif name not in defaults:
                raise ValueError(f"{type(self).__name__}.message needs {name!r}: pass "
                                 f"{base if side in ('_i', '_j') else name}=... to propagate")
        if var_kw:  # message(..., **kwargs) also receives what it does not name
            args.update({k: v for k, v in data.items() if k not in names})
        return args

    @staticmethod
    def _lift(name: str, value: Tensor, edges: _Edges, receiver: bool) -> Tensor:
        rows = edges.csr.num_rows if receiver else edges.csr.num_cols
        if value.dim() == 0 or value.size(0) != rows:
            raise ValueError(f"{name} must have one row per "
                             f"{'receiving' if receiver else 'sending'} node ({rows}), "
                             f"got shape {tuple(value.shape)}")
        return value.index_select(0, edges.dst if receiver else edges.src)

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor] = None) -> Tensor:
        r"""The message :math:`w_{ji}\mathbf{x}_j` of each edge (unweighted: ``x_j``).

        Parameters
        ----------
        x_j : Tensor
            ``[E, ...]`` features of each edge's sender.
        edge_weight : Tensor, optional
            ``[E]`` (or ``[E, H]`` for per-head weights of ``[E, H, C]`` features).

        Returns
        -------
        Tensor
            ``[E, ...]``.
        """
        if edge_weight is None:
            return x_j
        return x_j * edge_weight.view(edge_weight.shape + (1,) * (x_j.dim() - edge_weight.dim()))

    def aggregate(self, msg: Tensor, csr: CSR) -> Tensor:
        """Reduces the messages (in CSR order) of each row of ``csr`` by ``aggr``.

        Parameters
        ----------
        msg : Tensor
            ``[nnz, ...]`` messages in CSR order.
        csr : CSR
            Rows are the receiving nodes.

        Returns
        -------
        Tensor
            ``[csr.num_rows, ...]``.
        """
        return ops.segment_csr(msg, csr.indptr, self.aggr)

    def update(self, out: Tensor) -> Tensor:
        """The new node features from the aggregated messages (here unchanged).

        Parameters
        ----------
        out : Tensor
            ``[num_receivers, ...]`` aggregated messages.

        Returns
        -------
        Tensor
        """
        return out
