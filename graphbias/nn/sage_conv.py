r"""GraphSAGE convolution of Hamilton et al. (2017)."""
from __future__ import annotations

from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ..ops.csr import CSR
from .functional import Features, linear
from .linear import Linear
from .message_passing import MessagePassing, reject_edge_weight, resolve_graph


class SAGEConv(MessagePassing):
    r"""GraphSAGE of Hamilton et al. (2017).

    .. math::
        \mathbf{x}_i' = \mathbf{W}_1 \mathbf{x}_i + \mathbf{W}_2 \cdot
        \bigoplus_{j \in \mathcal{N}(i)} \mathbf{x}_j

    with :math:`\oplus` the ``aggr`` reduction (mean by default), parameters
    ``lin_l`` (:math:`\mathbf{W}_2`, with bias) and ``lin_r`` (:math:`\mathbf{W}_1`)
    as in ``torch_geometric.nn.SAGEConv``. Edge weights are not used, as there (a
    weighted Graph's weights are ignored; explicit ``edge_weight`` is refused).
    For sum and mean the neighbour transform runs before aggregation (the same
    result by linearity, fewer columns to move, sparse inputs stay sparse).

    Parameters
    ----------
    in_channels : int
        Input feature size.
    out_channels : int
        Output feature size.
    aggr : {"mean", "sum", "max", "min"}, default="mean"
        Neighbour reduction.
    normalize : bool, default=False
        :math:`\ell_2`-normalise each output row.
    root_weight : bool, default=True
        Add the node's own transformed features :math:`\mathbf{W}_1 \mathbf{x}_i`.
    bias : bool, default=True
        Bias of ``lin_l``.

    Attributes
    ----------
    lin_l : Linear
        :math:`\mathbf{W}_2` (neighbours), with the bias.
    lin_r : Linear or None
        :math:`\mathbf{W}_1` (root), without bias; None when ``root_weight=False``.

    Examples
    --------
    >>> import torch
    >>> conv = SAGEConv(3, 2, aggr="max")
    >>> conv(torch.randn(3, 3), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])).shape
    torch.Size([3, 2])
    """

    def __init__(self, in_channels: int, out_channels: int, aggr: str = "mean",
                 normalize: bool = False, root_weight: bool = True,
                 bias: bool = True) -> None:
        super().__init__(aggr=aggr)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.normalize, self.root_weight = normalize, root_weight
        self.lin_l = Linear(in_channels, out_channels, bias=bias)
        self.lin_r = Linear(in_channels, out_channels, bias=False) if root_weight else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draws both linear maps (torch's default initialisation, as PyG)."""
        self.lin_l.reset_parameters()
        if self.lin_r is not None:
            self.lin_r.reset_parameters()

    def forward(self, x: Features, edge_index: Any,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        """One GraphSAGE layer.

        Parameters
        ----------
        x : Tensor or CSR
            ``[N, in_channels]`` node features, dense or sparse.
        edge_index : Tensor, Graph or CSR
            ``[2, E]`` (source, target) pairs as in PyG, a Graph, or a CSR whose
            rows receive.
        edge_weight : None
            Not used; anything but None raises ``ValueError``.

        Returns
        -------
        Tensor
            ``[N, out_channels]``.
        """
        reject_edge_weight("SAGEConv", edge_weight)
        n = x.num_rows if isinstance(x, CSR) else x.size(0)
        g = resolve_graph(edge_index, n)
        csr = (g if isinstance(g, CSR) else g.csr).with_values(None)
        if self.aggr in ("sum", "mean"):
            out = self.propagate(csr, linear(x, self.lin_l.weight))
            if self.lin_l.bias is not None:
                out = out + self.lin_l.bias
        else:
            dense = x.to_dense() if isinstance(x, CSR) else x
            out = self.lin_l(self.propagate(csr, dense))
        if self.lin_r is not None:
            out = out + self.lin_r(x)
        return F.normalize(out, p=2.0, dim=-1) if self.normalize else out

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, aggr={self.aggr!r}"
