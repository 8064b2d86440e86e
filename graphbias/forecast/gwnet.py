r"""Graph WaveNet (Wu et al., 2019): gated dilated temporal convolutions interleaved
with graph convolutions on the given graph and on a learned adaptive adjacency
:math:`\tilde A = \mathrm{softmax}(\mathrm{ReLU}(E_1 E_2^\top))`.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import torch
from torch import Tensor

from .._validation import DEPRECATED
from ..nn.diffusion_conv import DiffusionConv
from .models import (HorizonReadout, _renamed, _step_graphs, check_future, node_blocks,
                     within_blocks)

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
        Input steps (>= 2); sets the dilations.
    hidden_channels : int, default=32
        Channels of every layer.
    k : int, default=2
        Diffusion hops on the graph and on the adaptive adjacency (>= 1).
    embedding : int, default=10
        Width of the node embeddings :math:`E_1, E_2`.
    normalization : {"random_walk", "gcn", "none"}, default="random_walk"
        Graph operators of :class:`~graphbias.nn.DiffusionConv`.
    future_channels : int, default=0
        Known covariates per target step and node, read by a
        :class:`~graphbias.forecast.HorizonReadout` of the skip sum added to
        the readout (0: none); it convolves them on the last input step's graph
        (``k`` hops, not the adaptive adjacency).
    input_hops : int, default=0
        Not in the paper: the input projection also diffuses every input step
        over its own graph, ``start(x_t) + DiffusionConv(x_t, G_t)`` with
        ``input_hops`` hops (0: the paper's per-node projection). The layers'
        graph convolutions act only at the steps the dilations read (see
        :meth:`forward`); this one reaches every step's graph, e.g. the graph of
        a lag the dilations skip, when each step has its own graph.
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
                 normalization: str = "random_walk", *, future_channels: int = 0,
                 input_hops: int = 0, hidden: Any = DEPRECATED) -> None:
        super().__init__()
        if k < 1:
            raise ValueError(f"GraphWaveNet needs k >= 1 hops, got {k}")
        if window < 2:
            raise ValueError(f"GraphWaveNet needs window >= 2 steps, got {window}")
        if input_hops < 0:
            raise ValueError(f"GraphWaveNet needs input_hops >= 0, got {input_hops}")
        width = _renamed(type(self).__name__, "hidden_channels", hidden_channels, 32,
                         "hidden", hidden)
        self.horizon, self.out_channels, self.k = horizon, out_channels, k
        self.dilations: list[int] = []
        while 1 + sum(self.dilations) < window:
            self.dilations.append(2 ** len(self.dilations))
        self.receptive_field = 1 + sum(self.dilations)
        self._taps = _taps(self.dilations)
        self._offsets = _output_offsets(self.dilations)
        self.start = torch.nn.Linear(in_channels, width)
        self.input_conv = (DiffusionConv(in_channels, width, input_hops, bias=False,
                                         normalization=normalization)
                           if input_hops else None)
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
        self.future_channels = future_channels
        self.future_readout = (HorizonReadout(width, future_channels, out_channels, horizon,
                                              k=k, normalization=normalization)
                               if future_channels else None)

    def adaptive_adjacency(self) -> Tensor:
        r"""The learned adjacency :math:`\tilde A = \mathrm{softmax}(\mathrm{ReLU}(E_1 E_2^\top))`
        (row-stochastic, ``[num_nodes, num_nodes]``; row ``i`` weighs the nodes ``i``
        gathers from)."""
        return torch.softmax(torch.relu(self.source @ self.target.T), dim=1)

    def forward(self, x: Tensor, graph: Any, future: Optional[Tensor] = None) -> Tensor:
        """Forecasts ``[B, H, N, out_channels]`` from ``x: [B, W, N, in_channels]``
        (and ``future: [B, H, N, future_channels]`` when the model reads it).

        ``N`` may be a multiple of ``num_nodes``: node ``b * num_nodes + n`` is node
        ``n`` of block ``b`` (windows side by side, ``graph`` their block-diagonal
        union), and the adaptive adjacency acts within each block. ``graph`` is one
        graph, or a sequence of ``W`` graphs, one per input step: a layer's output at
        a step is then convolved on that step's graph (steps before the window, the
        left padding of a short window, on the first one).

        Only the time steps some later layer reads are computed (the readout reads
        the last step of every layer): with dilations 1, 2, 4, 8 that is 8, 4, 2, 1
        steps per layer instead of 15, 13, 9, 1, and the last layer, read only
        through its skip connection, skips its graph convolution. Activations are node-major,
        ``[N, B, T, C]``, so every graph product acts on one contiguous matrix.
        """
        check_future(self, future, x)
        B, W, N, _ = x.shape
        steps = _step_graphs(graph, W)
        blocks = node_blocks(self, self.source.size(0), N)
        h = self.start(x).permute(2, 0, 1, 3)  # [N, B, W, C]
        if self.input_conv is not None:
            h = h + _per_step(self.input_conv, x.permute(2, 0, 1, 3), steps)
        if W < self.receptive_field:
            h = torch.nn.functional.pad(h, (0, 0, self.receptive_field - W, 0))
        adj = self.adaptive_adjacency()
        skip: Any = 0.0
        for i, (conv, sk, gconv, adp) in enumerate(zip(self.filters, self.skips,
                                                       self.graph_convs, self.adaptive)):
            older, newer = self._taps[i]
            width = conv.out_channels // 2
            weight = conv.weight.permute(0, 3, 1, 2).reshape(2 * width, -1)
            f, g = torch.nn.functional.linear(
                torch.cat([h[:, :, older], h[:, :, newer]], -1), weight, conv.bias
            ).chunk(2, -1)
            z = torch.tanh(f) * torch.sigmoid(g)  # [N, B, T', C]
            skip = skip + sk(z[:, :, -1])
            if i == len(self.filters) - 1:
                break  # the last layer feeds the readout only through its skip
            hops, a = [], z
            for _ in range(self.k):
                a = within_blocks(adj, a, blocks)
                hops.append(a)
            h = self._graph_conv(gconv, z, steps, i) + adp(torch.cat(hops, -1)) + h[:, :, newer]
        y = self.end(skip).view(N, B, self.horizon, self.out_channels)
        if future is not None:
            y = y + self.future_readout(torch.relu(skip), future.permute(2, 0, 1, 3), steps[-1])
        return y.permute(1, 2, 0, 3)

    def _graph_conv(self, gconv: DiffusionConv, z: Tensor, steps: Sequence[Any],
                    layer: int) -> Tensor:
        """``gconv`` of ``z: [N, B, T', C]``, the outputs of ``layer``, each position
        on the graph of its input step; positions on one graph pass together."""
        last = len(steps) - 1
        return _per_step(gconv, z, [steps[max(last - o, 0)] for o in self._offsets[layer]])


def _per_step(conv: DiffusionConv, z: Tensor, graphs: Sequence[Any]) -> Tensor:
    """``conv`` of ``z: [N, B, T, C]``, position ``t`` on ``graphs[t]``; consecutive
    positions on one graph pass together."""
    runs, start = [], 0
    for j in range(1, len(graphs) + 1):
        if j == len(graphs) or graphs[j] is not graphs[start]:
            runs.append(conv(z[:, :, start:j], graphs[start]))
            start = j
    return runs[0] if len(runs) == 1 else torch.cat(runs, 2)


def _output_offsets(dilations: list[int]) -> list[list[int]]:
    """Per layer, the offsets (steps back from the last, oldest first) of the outputs
    that a later layer or the readout reads: offset 0 of every layer, and the
    outputs at ``o`` and ``o + d`` of the layer below one of dilation ``d`` that
    reads offset ``o``."""
    needed = [[0]]  # last layer first
    for d in reversed(dilations[1:]):
        needed.append(sorted(set(needed[-1]) | {o + d for o in needed[-1]}, reverse=True))
    return needed[::-1]


def _taps(dilations: list[int]) -> list[tuple[Any, Any]]:
    """Per layer, the positions in its input of the older and newer tap of each output
    step that a later layer or the readout reads.

    Offsets count steps back from the last: the readout reads offset 0 of every
    layer, and an output at offset ``o`` of a layer of dilation ``d`` reads its input
    at ``o + d`` (older tap) and ``o`` (newer tap, also the residual). Steps are kept
    oldest first, so the last position is offset 0.
    """
    needed = _output_offsets(dilations)
    inputs = [sorted(set(needed[0]) | {o + dilations[0] for o in needed[0]}, reverse=True)]
    inputs += needed[:-1]
    taps = []
    for d, outs, ins in zip(dilations, needed, inputs):
        pos = {o: j for j, o in enumerate(ins)}
        taps.append((_as_slice([pos[o + d] for o in outs]), _as_slice([pos[o] for o in outs])))
    return taps


def _as_slice(positions: list[int]) -> Union[slice, list[int]]:
    """``positions`` as a slice when they are evenly spaced (a view, no copy)."""
    steps = {b - a for a, b in zip(positions, positions[1:])}
    if len(steps) > 1:
        return positions
    return slice(positions[0], positions[-1] + 1, steps.pop() if steps else 1)
