r"""Graph convolution of Kipf & Welling (2017)."""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ..data.transforms import gcn_norm
from ..ops.csr import CSR
from .functional import Features
from .linear import Linear
from .message_passing import MessagePassing, resolve_graph


class GCNConv(MessagePassing):
    r"""Graph convolution

    .. math::
        \mathbf{X}' = \hat{\mathbf{D}}^{-1/2} \hat{\mathbf{A}} \hat{\mathbf{D}}^{-1/2}
        \mathbf{X} \mathbf{W} + \mathbf{b}, \qquad \hat{\mathbf{A}} = \mathbf{A} + \mathbf{I}

    with the same parameters (``lin.weight``, ``bias``) and the same result as
    ``torch_geometric.nn.GCNConv``. The normalised propagation matrix is built once
    per graph and cached on it. ``x`` may be dense or a sparse
    :class:`~graphbias.ops.CSR` feature matrix.

    Args:
        in_channels, out_channels: feature sizes.
        improved: use :math:`\mathbf{A} + 2\mathbf{I}`.
        add_self_loops: add :math:`\mathbf{I}` (to nodes without a loop).
        normalize: apply the symmetric normalisation; with ``False`` the graph's
            own edge weights are used (a :class:`CSR` is then accepted as is).
        bias: learn an additive bias.
    """

    def __init__(self, in_channels: int, out_channels: int, improved: bool = False,
                 add_self_loops: bool = True, normalize: bool = True,
                 bias: bool = True) -> None:
        super().__init__(aggr="sum")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.improved, self.add_self_loops, self.normalize = improved, add_self_loops, normalize
        self.lin = Linear(in_channels, out_channels, bias=False)
        self.bias = torch.nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = math.sqrt(6.0 / (self.in_channels + self.out_channels))
        torch.nn.init.uniform_(self.lin.weight, -bound, bound)  # Glorot
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def propagation_matrix(self, graph: Any, num_nodes: int, dtype: torch.dtype) -> CSR:
        g = resolve_graph(graph, num_nodes)
        if isinstance(g, CSR):
            if self.normalize:
                raise ValueError("GCNConv(normalize=True) needs a Graph (its "
                                 "normalisation is cached on it), not a bare CSR")
            return g
        if self.normalize:
            return gcn_norm(g, self.improved, self.add_self_loops, dtype)
        return g.csr

    def forward(self, x: Features, graph: Any) -> Tensor:
        h = self.lin(x)
        out = self.propagate(self.propagation_matrix(graph, h.size(0), h.dtype), h)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}"
