r"""A GRU cell whose gates are graph convolutions (DCRNN's DCGRU when the convolution
is :class:`~graphbias.nn.DiffusionConv`).

.. math::

    r, u = \sigma(\Theta_{ru} \star [x, h]),\quad
    c = \tanh(\Theta_c \star [x, r \odot h]),\quad
    h' = u \odot h + (1 - u) \odot c.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import torch
from torch import Tensor

from .diffusion_conv import DiffusionConv

__all__ = ["GraphGRUCell"]


class GraphGRUCell(torch.nn.Module):
    """``forward(x, h, graph)`` with ``x: [N, ..., in_channels]`` and ``h`` of the same
    leading shape with ``hidden_channels`` (None = zeros); returns the new ``h``.

    ``conv(in, out)`` builds each gate's graph convolution (default: diffusion, ``k``
    hops, ``normalization`` as in :class:`~graphbias.nn.DiffusionConv`).

    >>> import torch
    >>> from graphbias.data import Graph
    >>> cell = GraphGRUCell(2, 8)
    >>> cell(torch.randn(4, 3, 2), None, Graph(torch.tensor([[0, 1], [1, 2]]), 4)).shape
    torch.Size([4, 3, 8])
    """

    def __init__(self, in_channels: int, hidden_channels: int, k: int = 2,
                 conv: Optional[Callable[[int, int], torch.nn.Module]] = None,
                 normalization: str = "random_walk") -> None:
        super().__init__()
        make = conv or (lambda i, o: DiffusionConv(i, o, k=k, normalization=normalization))
        self.hidden_channels = hidden_channels
        self.gates = make(in_channels + hidden_channels, 2 * hidden_channels)
        self.candidate = make(in_channels + hidden_channels, hidden_channels)
        with torch.no_grad():  # gate biases start at 1, as in DCRNN
            bias = getattr(getattr(self.gates, "lin", self.gates), "bias", None)
            if bias is not None:
                bias.fill_(1.0)

    def forward(self, x: Tensor, h: Optional[Tensor], graph: Any) -> Tensor:
        if h is None:
            h = x.new_zeros(x.shape[:-1] + (self.hidden_channels,))
        r, u = torch.sigmoid(self.gates(torch.cat([x, h], -1), graph)).chunk(2, -1)
        c = torch.tanh(self.candidate(torch.cat([x, r * h], -1), graph))
        return u * h + (1.0 - u) * c
