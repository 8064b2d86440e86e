"""Stacks of graph convolutions used by the estimators."""
from __future__ import annotations

from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .functional import Features, dropout
from .gat_conv import GATConv
from .gcn_conv import GCNConv
from .sage_conv import SAGEConv

__all__ = ["GNN", "CONVS"]

CONVS = ("gcn", "sage", "gat")


class GNN(torch.nn.Module):
    r"""``num_layers`` convolutions of one kind with dropout before each and an
    activation between them (ReLU; ELU for GAT, as in the GAT paper).

    For ``conv="gat"`` hidden layers have ``heads`` concatenated heads and the
    output layer ``out_heads`` averaged heads; attention dropout equals ``dropout``.

    Parameters
    ----------
    in_channels : int
        Input feature size.
    hidden_channels : int
        Width of the hidden layers (per head for GAT).
    out_channels : int
        Output size.
    num_layers : int, default=2
        Number of convolutions.
    conv : {"gcn", "sage", "gat"}, default="gcn"
        The convolution.
    dropout : float, default=0.5
        Feature dropout before each layer (and attention dropout for GAT).
    heads : int, default=8
        GAT heads of the hidden layers.
    out_heads : int, default=1
        GAT heads of the output layer.

    Attributes
    ----------
    layers : torch.nn.ModuleList
        The convolutions, first to last.

    Examples
    --------
    >>> import torch
    >>> model = GNN(3, 8, 2, conv="sage")
    >>> model(torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
    torch.Size([4, 2])
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int = 2, conv: str = "gcn", dropout: float = 0.5,
                 heads: int = 8, out_heads: int = 1) -> None:
        super().__init__()
        if conv not in CONVS:
            raise ValueError(f"conv must be one of {CONVS}, got {conv!r}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.conv, self.dropout = conv, dropout
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        layers: list[torch.nn.Module] = []
        for i in range(num_layers):
            last = i == num_layers - 1
            if conv == "gat":
                width_in = sizes[i] if i == 0 else sizes[i] * heads
                layers.append(GATConv(width_in, sizes[i + 1],
                                      heads=out_heads if last else heads,
                                      concat=not last, dropout=dropout))
            elif conv == "sage":
                layers.append(SAGEConv(sizes[i], sizes[i + 1]))
            else:
                layers.append(GCNConv(sizes[i], sizes[i + 1]))
        self.layers = torch.nn.ModuleList(layers)

    def reset_parameters(self) -> None:
        """Re-initialises every layer."""
        for layer in self.layers:
            layer.reset_parameters()

    def forward(self, x: Features, edge_index: Any,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        """Runs the stack.

        Parameters
        ----------
        x : Tensor or CSR
            ``[N, in_channels]`` node features, dense or sparse.
        edge_index : Tensor, Graph or CSR
            The graph, as each layer takes it (``[2, E]`` pairs, a Graph, ...).
        edge_weight : Tensor, optional
            ``[E]`` edge weights, passed to every layer (only GCN uses them).

        Returns
        -------
        Tensor
            ``[N, out_channels]``.
        """
        h: Any = x
        for i, layer in enumerate(self.layers):
            h = dropout(h, self.dropout, self.training)
            h = layer(h, edge_index, edge_weight)
            if i < len(self.layers) - 1:
                h = F.elu(h) if self.conv == "gat" else F.relu(h)
        return h
