r"""Graph attention convolution of Veličković et al. (2018)."""
from __future__ import annotations

import math
from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import ops
from ..data.transforms import add_self_loops, remove_self_loops
from ..ops.csr import CSR
from .functional import Features
from .linear import Linear
from .message_passing import MessagePassing, reject_edge_weight, resolve_graph


class GATConv(MessagePassing):
    r"""Graph attention of Veličković et al. (2018).

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
    The self-looped structure is cached per graph (a raw ``edge_index`` gets its
    graph cached too).

    Parameters
    ----------
    in_channels : int
        Input feature size.
    out_channels : int
        Output size per head.
    heads : int, default=1
        Number of attention heads :math:`H`.
    concat : bool, default=True
        Concatenate the heads (else average them).
    negative_slope : float, default=0.2
        Slope of the LeakyReLU.
    dropout : float, default=0.0
        Dropout on the attention coefficients (training only).
    add_self_loops : bool, default=True
        Attend to the node itself (existing loops replaced by one per node).
    bias : bool, default=True
        Learn an additive bias.

    Attributes
    ----------
    lin : Linear
        :math:`\mathbf{W}`, ``[heads * out_channels, in_channels]``.
    att_src, att_dst : torch.nn.Parameter
        :math:`\mathbf{a}_s`, :math:`\mathbf{a}_t`, ``[1, heads, out_channels]``.
    bias : torch.nn.Parameter or None

    Examples
    --------
    >>> import torch
    >>> conv = GATConv(3, 2, heads=4)
    >>> conv(torch.randn(3, 3), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])).shape
    torch.Size([3, 8])
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
        """Glorot-uniform weights and attention vectors, zero bias (as PyG)."""
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

    def forward(self, x: Features, edge_index: Any,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        """One attention layer.

        Parameters
        ----------
        x : Tensor or CSR
            ``[N, in_channels]`` node features, dense or sparse.
        edge_index : Tensor, Graph or CSR
            ``[2, E]`` (source, target) pairs as in PyG, a Graph, or a CSR whose
            rows receive (taken as is: no self-loops added).
        edge_weight : None
            Not used; anything but None raises ``ValueError``.

        Returns
        -------
        Tensor
            ``[N, heads * out_channels]`` (``[N, out_channels]`` when
            ``concat=False``).
        """
        reject_edge_weight("GATConv", edge_weight)
        H, C = self.heads, self.out_channels
        h = self.lin(x).view(-1, H, C)
        csr = self._structure(edge_index, h.size(0))
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
