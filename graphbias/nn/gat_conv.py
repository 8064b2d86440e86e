r"""Graph attention convolution of Veličković et al. (2018)."""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import ops
from ..data.transforms import add_self_loops, remove_self_loops
from ..ops.csr import CSR
from .functional import Features
from .linear import Linear
from .message_passing import MessagePassing, resolve_graph


class GATConv(MessagePassing):
    r"""Graph attention

    .. math::
        \mathbf{x}_i' = \Big\Vert_{h=1}^{H} \sum_{j \in \mathcal{N}(i) \cup \{i\}}
        \alpha_{ij}^{h} \mathbf{W}^{h} \mathbf{x}_j, \qquad
        \alpha_{ij}^{h} = \operatorname{softmax}_j\Big(\operatorname{LeakyReLU}\big(
        \mathbf{a}_{s}^{h\top} \mathbf{W}^{h}\mathbf{x}_j +
        \mathbf{a}_{t}^{h\top} \mathbf{W}^{h}\mathbf{x}_i\big)\Big)

    (heads concatenated, or averaged when ``concat=False``), with parameters
    ``lin.weight``, ``att_src``, ``att_dst``, ``bias`` as in
    ``torch_geometric.nn.GATConv``. Scores are computed in CSR order, normalised
    per receiving row, and the weighted sum is one fused sparse product per head.
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1,
                 concat: bool = True, negative_slope: float = 0.2,
                 dropout: float = 0.0, add_self_loops: bool = True,
                 bias: bool = True) -> None:
        super().__init__(aggr="sum")
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.negative_slope, self.dropout = concat, negative_slope, dropout
        self.add_self_loops = add_self_loops
        self.lin = Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = torch.nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = torch.nn.Parameter(torch.empty(1, heads, out_channels))
        size = heads * out_channels if concat else out_channels
        self.bias = torch.nn.Parameter(torch.zeros(size)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for w, fan in ((self.lin.weight, self.in_channels + self.heads * self.out_channels),
                       (self.att_src, self.heads + self.out_channels),
                       (self.att_dst, self.heads + self.out_channels)):
            bound = math.sqrt(6.0 / fan)
            torch.nn.init.uniform_(w, -bound, bound)
        if self.bias is not None:
            torch.nn.init.zeros_(self.bias)

    def _structure(self, graph: Any, num_nodes: int) -> CSR:
        g = resolve_graph(graph, num_nodes)
        if isinstance(g, CSR):
            return g.with_values(None)
        if not self.add_self_loops:
            return g.csr.with_values(None)
        looped = g.cached("gat_self_loops", lambda: add_self_loops(
            remove_self_loops(g.replace(edge_weight=None))))
        return looped.csr

    def forward(self, x: Features, graph: Any) -> Tensor:
        H, C = self.heads, self.out_channels
        h = self.lin(x).view(-1, H, C)
        csr = self._structure(graph, h.size(0))
        a_src = (h * self.att_src).sum(-1)
        a_dst = (h * self.att_dst).sum(-1)
        score = a_src.index_select(0, csr.indices) + a_dst.index_select(0, csr.row())
        score = F.leaky_relu(score, self.negative_slope)
        alpha = ops.softmax_csr(score, csr)
        alpha = F.dropout(alpha, self.dropout, self.training)
        out = self.propagate(csr.with_values(alpha), h)
        out = out.reshape(-1, H * C) if self.concat else out.mean(dim=1)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}"
