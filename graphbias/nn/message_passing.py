r"""A PyG-style message-passing base class on :mod:`graphbias.ops`.

.. math::
    \mathbf{h}_i' = \gamma\Big(\mathbf{h}_i,\ \bigoplus_{j \in \mathcal{N}(i)}
    \phi(\mathbf{h}_i, \mathbf{h}_j, w_{ji})\Big)

``message`` is :math:`\phi`, ``aggregate`` is :math:`\oplus` (sum, mean, max, min),
``update`` is :math:`\gamma`. A layer that keeps the default message
:math:`w_{ji}\mathbf{h}_j` runs as one fused sparse product (:func:`ops.spmm`);
a layer that overrides ``message`` gathers per-edge messages in CSR order and
reduces them with :func:`ops.segment_csr`.
"""
from __future__ import annotations

from typing import Any, Optional, Union

import torch
from torch import Tensor

from .. import ops
from ..data.graph import Graph, as_graph
from ..ops.csr import CSR

GraphLike = Union[Graph, CSR, Tensor]

__all__ = ["MessagePassing", "GraphLike", "resolve_graph"]


def resolve_graph(graph: Any, num_nodes: int) -> Union[Graph, CSR]:
    """A Graph or CSR as is; anything :func:`as_graph` reads is converted (and
    then its CSR is rebuilt on every call: pass a Graph to have it cached)."""
    if isinstance(graph, (Graph, CSR)):
        n = graph.num_nodes if isinstance(graph, Graph) else graph.num_cols
        if n != num_nodes:
            raise ValueError(f"x has {num_nodes} rows but the graph has {n} nodes")
        return graph
    return as_graph(graph, num_nodes=num_nodes)


class MessagePassing(torch.nn.Module):
    """Base class: subclasses call :meth:`propagate` from ``forward``."""

    def __init__(self, aggr: str = "sum") -> None:
        super().__init__()
        self.aggr = ops._checks.check_reduce(aggr)

    def _fused(self) -> bool:
        return type(self).message is MessagePassing.message

    def propagate(self, csr: CSR, x: Tensor, **kwargs: Any) -> Tensor:
        """Aggregates messages along the rows of ``csr`` (receivers) from its
        columns (senders). Extra keyword tensors of ``num_nodes`` rows are
        available to :meth:`message` as ``name_i`` / ``name_j``; per-edge tensors
        (in CSR order) are passed through unchanged."""
        if self._fused() and not kwargs:
            return self.update(ops.spmm(csr, x, self.aggr))
        row, col = csr.row(), csr.indices
        args: dict[str, Any] = {"x_j": x.index_select(0, col),
                                "x_i": x.index_select(0, row),
                                "edge_weight": csr.values}
        for name, value in kwargs.items():
            if isinstance(value, Tensor) and value.size(0) == csr.num_rows \
                    and name.endswith(("_i", "_j")):
                args[name] = value.index_select(0, row if name.endswith("_i") else col)
            else:
                args[name] = value
        msg = self.message(**args)
        return self.update(self.aggregate(msg, csr))

    def message(self, x_j: Tensor, edge_weight: Optional[Tensor] = None,
                **kwargs: Any) -> Tensor:
        if edge_weight is None:
            return x_j
        return x_j * edge_weight.view(edge_weight.shape + (1,) * (x_j.dim() - edge_weight.dim()))

    def aggregate(self, msg: Tensor, csr: CSR) -> Tensor:
        return ops.segment_csr(msg, csr.indptr, self.aggr)

    def update(self, out: Tensor) -> Tensor:
        return out
