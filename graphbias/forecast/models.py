"""Spatiotemporal forecasting networks.

Every model maps inputs ``x: [B, W, N, F_in]`` (W past steps) and a graph to
``[B, H, N, F_out]`` (H future steps).

* :class:`TimeThenSpace`: a GRU encodes each node's window, graph convolutions then
  mix the node embeddings, a linear readout emits all H steps. With
  ``graph_free=True`` the convolutions become per-node linear layers of the same
  width: the graph-free GRU baseline.
* :class:`DCRNN`: encoder-decoder of diffusion-convolutional GRU cells (time and
  space together); the decoder feeds back its own predictions.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..nn.diffusion_conv import DiffusionConv
from ..nn.graph_gru import GraphGRUCell

__all__ = ["TimeThenSpace", "DCRNN"]


class TimeThenSpace(torch.nn.Module):
    """GRU encoder over time per node, then ``n_layers`` diffusion convolutions
    (residual, ReLU) and a linear decoder to ``horizon x out_channels``.

    >>> import torch
    >>> from graphbias.data import Graph
    >>> m = TimeThenSpace(2, 1, horizon=3, hidden=8)
    >>> m(torch.randn(4, 5, 6, 2), Graph(torch.tensor([[0, 1], [1, 2]]), 6)).shape
    torch.Size([4, 3, 6, 1])
    """

    def __init__(self, in_channels: int, out_channels: int, horizon: int, hidden: int = 32,
                 n_layers: int = 2, k: int = 2, graph_free: bool = False,
                 normalization: str = "random_walk") -> None:
        super().__init__()
        self.horizon, self.out_channels, self.graph_free = horizon, out_channels, graph_free
        self.rnn = torch.nn.GRU(in_channels, hidden, batch_first=True)
        self.space = torch.nn.ModuleList(
            torch.nn.Linear(hidden, hidden) if graph_free
            else DiffusionConv(hidden, hidden, k, normalization=normalization)
            for _ in range(n_layers))
        self.readout = torch.nn.Linear(hidden, horizon * out_channels)

    def forward(self, x: Tensor, graph: Any) -> Tensor:
        B, W, N, F = x.shape
        _, h = self.rnn(x.permute(0, 2, 1, 3).reshape(B * N, W, F))
        h = h[-1].view(B, N, -1).transpose(0, 1)  # [N, B, hidden]
        for layer in self.space:
            h = h + torch.relu(layer(h) if self.graph_free else layer(h, graph))
        out = self.readout(h).view(N, B, self.horizon, self.out_channels)
        return out.permute(1, 2, 0, 3)


class DCRNN(torch.nn.Module):
    """Diffusion-convolutional recurrent encoder-decoder (Li et al., 2018).

    >>> import torch
    >>> from graphbias.data import Graph
    >>> m = DCRNN(2, 1, horizon=3, hidden=8)
    >>> m(torch.randn(4, 5, 6, 2), Graph(torch.tensor([[0, 1], [1, 2]]), 6)).shape
    torch.Size([4, 3, 6, 1])
    """

    def __init__(self, in_channels: int, out_channels: int, horizon: int, hidden: int = 32,
                 n_layers: int = 1, k: int = 2, normalization: str = "random_walk") -> None:
        super().__init__()
        self.horizon, self.out_channels = horizon, out_channels
        self.encoder = torch.nn.ModuleList(
            GraphGRUCell(in_channels if i == 0 else hidden, hidden, k,
                         normalization=normalization) for i in range(n_layers))
        self.decoder = torch.nn.ModuleList(
            GraphGRUCell(out_channels if i == 0 else hidden, hidden, k,
                         normalization=normalization) for i in range(n_layers))
        self.readout = torch.nn.Linear(hidden, out_channels)

    @staticmethod
    def _step(cells: torch.nn.ModuleList, x: Tensor, hs: list, graph: Any) -> Tensor:
        for i, cell in enumerate(cells):
            hs[i] = x = cell(x, hs[i], graph)
        return x

    def forward(self, x: Tensor, graph: Any) -> Tensor:
        x = x.transpose(0, 2)  # [N, W, B, F]
        hs: list = [None] * len(self.encoder)
        for t in range(x.size(1)):
            self._step(self.encoder, x[:, t], hs, graph)
        y = x.new_zeros(x.size(0), x.size(2), self.out_channels)
        outs = []
        for _ in range(self.horizon):
            y = self.readout(self._step(self.decoder, y, hs, graph))
            outs.append(y)
        return torch.stack(outs, 0).permute(2, 0, 1, 3)  # [B, H, N, F]
