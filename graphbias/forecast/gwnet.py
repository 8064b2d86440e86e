r"""Graph WaveNet (Wu et al., 2019): gated dilated temporal convolutions interleaved
with graph convolutions on the given graph and on a learned adaptive adjacency
:math:`\tilde A = \mathrm{softmax}(\mathrm{ReLU}(E_1 E_2^\top))`.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .._validation import DEPRECATED
from ..nn.diffusion_conv import DiffusionConv
from .models import _renamed

__all__ = ["GraphWaveNet"]


class GraphWaveNet(torch.nn.Module):
    r"""Graph WaveNet: gated dilated temporal convolutions and graph convolutions.

    Layers of kernel-2 temporal convolutions with dilations 1, 2, 4, ... until the
    receptive field covers the window; each layer is gated,
    :math:`z = \tanh(\Theta_f \ast h) \odot \sigma(\Theta_g \ast h)`, feeds a skip
    connection, then a graph convolution (diffusion on the graph plus ``k`` hops of
    the adaptive adjacency, :math:`\sum_{j=1}^{k} \tilde A^j z W_j`) and a residual
    connection. The skips are read out to ``horizon x out_channels``. The depth
    follows from ``window``, so there is no layer-count parameter.

    Parameters
    ----------
    in_channels : int
        Input features per node and step.
    out_channels : int
        Forecast features per node and step.
    horizon : int
        Steps forecast at once.
    num_nodes : int
        Nodes of the graph (rows of the adaptive adjacency).
    window : int
        Input steps; sets the dilations.
    hidden_channels : int, default=32
        Channels of every layer.
    k : int, default=2
        Diffusion hops on the graph and on the adaptive adjacency (>= 1).
    embedding : int, default=10
        Width of the node embeddings :math:`E_1, E_2`.
    normalization : {"random_walk", "gcn"}, default="random_walk"
        Graph operators of :class:`~graphbias.nn.DiffusionConv`.
    hidden : int, optional
        Deprecated name of ``hidden_channels``.

    Examples
    --------
    >>> import torch
    >>> from graphbias.data import Graph
    >>> m = GraphWaveNet(2, 1, horizon=3, num_nodes=6, window=5, hidden_channels=8)
    >>> m(torch.randn(4, 5, 6, 2), Graph(torch.tensor([[0, 1], [1, 2]]), 6)).shape
    torch.Size([4, 3, 6, 1])
    """

    def __init__(self, in_channels: int, out_channels: int, horizon: int, num_nodes: int,
                 window: int, hidden_channels: int = 32, k: int = 2, embedding: int = 10,
                 normalization: str = "random_walk", *, hidden: Any = DEPRECATED) -> None:
        super().__init__()
        if k < 1:
            raise ValueError(f"GraphWaveNet needs k >= 1 hops, got {k}")
        width = _renamed(type(self).__name__, "hidden_channels", hidden_channels, 32,
                         "hidden", hidden)
        self.horizon, self.out_channels, self.k = horizon, out_channels, k
        self.dilations: list[int] = []
        while 1 + sum(self.dilations) < window:
            self.dilations.append(2 ** len(self.dilations))
        self.receptive_field = 1 + sum(self.dilations)
        self.start = torch.nn.Linear(in_channels, width)
        self.filters = torch.nn.ModuleList(
            torch.nn.Conv2d(width, 2 * width, (1, 2), dilation=(1, d)) for d in self.dilations)
        self.skips = torch.nn.ModuleList(torch.nn.Linear(width, width) for _ in self.dilations)
        self.graph_convs = torch.nn.ModuleList(
            DiffusionConv(width, width, k, normalization=normalization)
            for _ in self.dilations)
        self.adaptive = torch.nn.ModuleList(
            torch.nn.Linear(k * width, width, bias=False) for _ in self.dilations)
        self.source = torch.nn.Parameter(torch.randn(num_nodes, embedding))
        self.target = torch.nn.Parameter(torch.randn(num_nodes, embedding))
        self.end = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(width, width),
                                       torch.nn.ReLU(),
                                       torch.nn.Linear(width, horizon * out_channels))

    def forward(self, x: Tensor, graph: Any) -> Tensor:
        """Forecasts ``[B, H, N, out_channels]`` from ``x: [B, W, N, in_channels]``."""
        B, W, N, _ = x.shape
        h = self.start(x)  # [B, W, N, C]
        if W < self.receptive_field:
            h = torch.nn.functional.pad(h, (0, 0, 0, 0, self.receptive_field - W, 0))
        h = h.permute(0, 3, 2, 1)  # [B, C, N, W]
        adj = torch.softmax(torch.relu(self.source @ self.target.T), dim=1)
        skip = 0.0
        for conv, sk, gconv, adp in zip(self.filters, self.skips, self.graph_convs,
                                       self.adaptive):
            f, g = conv(h).chunk(2, 1)
            z = torch.tanh(f) * torch.sigmoid(g)  # [B, C, N, W']
            zn = z.permute(2, 0, 3, 1)  # [N, B, W', C]
            skip = skip + sk(zn[:, :, -1])
            hops, a = [], zn
            for _ in range(self.k):
                a = torch.einsum("nm,m...->n...", adj, a)
                hops.append(a)
            out = gconv(zn, graph) + adp(torch.cat(hops, -1))
            h = out.permute(1, 3, 0, 2) + h[..., -z.size(-1):]
        y = self.end(skip)  # [N, B, H * F]
        return y.view(N, B, self.horizon, self.out_channels).permute(1, 2, 0, 3)
