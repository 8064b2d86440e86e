r"""AGCRN (Bai et al., 2020): a recurrent network whose gates are node-adaptive
graph convolutions on an adjacency learned from node embeddings.

Two ideas of the paper, both driven by node embeddings :math:`E \in \mathbb R^{N \times d}`:

* **data-adaptive graph**: :math:`\tilde A = \mathrm{softmax}(\mathrm{ReLU}(E E^\top))`
  (row-wise softmax), expanded in Chebyshev terms :math:`T_0 = I`,
  :math:`T_1 = \tilde A`, :math:`T_s = 2 \tilde A T_{s-1} - T_{s-2}`;
* **node-adaptive parameters**: node :math:`n`'s weights are
  :math:`W_n = \sum_j E_{nj} W^{pool}_j` and its bias :math:`b_n = E_n B^{pool}`,
  so each node has its own filter at the cost of :math:`d` shared pools.

.. math::

    Z_n = \sum_{s} \big(T_s(\tilde A)\, X\big)_n W_{n,s} + b_n .

Not in the paper, and off by default in :class:`AGCRN` (``k=0``): ``k`` hops of the
given graph's diffusion operators (:func:`~graphbias.nn.diffusion_conv.diffusion_terms`)
join the Chebyshev terms, each with its own node-adaptive weights, so the learned
adjacency complements the known graph instead of replacing it.
"""
from __future__ import annotations

import math
from typing import Any, Optional

import torch
from torch import Tensor

from ..nn.diffusion_conv import check_normalization, diffusion_terms
from ..nn.graph_gru import GraphGRUCell
from .models import (HorizonReadout, _step_graphs, check_future, horizon_output, node_blocks,
                     within_blocks)

__all__ = ["AGCRN", "NodeAdaptiveConv"]

#: standard deviation of the initial node embeddings: small, so the learned adjacency
#: starts near uniform (the authors' code starts them at Xavier scale, about 0.1 for
#: 200 nodes); unit-variance embeddings start it peaked at random neighbours and
#: trained to 3.68 MAE at 15 minutes on Los-loop against 3.28-3.39 with this scale
EMBEDDING_SD = 0.1


class _Context:
    """What every convolution of one forward pass shares: the learned adjacency, the
    node embeddings, the graph of the current step, and each convolution's node
    weights (built once per forward, not once per step)."""

    def __init__(self, adjacency: Tensor, embedding: Tensor, blocks: int) -> None:
        self.adjacency, self.embedding, self.blocks = adjacency, embedding, blocks
        self.graph: Any = None
        self.weights: dict[torch.nn.Module, tuple[Tensor, Tensor]] = {}


class NodeAdaptiveConv(torch.nn.Module):
    r"""AGCRN's node-adaptive graph convolution (AVWGCN).

    ``forward(x, context)`` maps ``x: [N, B, in_channels]`` to
    ``[N, B, out_channels]``: the Chebyshev terms of the learned adjacency (and
    ``k`` hops of each of the given graph's diffusion operators), stacked per node
    and multiplied by that node's weights :math:`W_n = \sum_j E_{nj} W^{pool}_j`.
    ``context`` is built by :class:`AGCRN` once per forward.

    Parameters
    ----------
    in_channels, out_channels : int
        Features in and out per node.
    embedding : int
        Width :math:`d` of the node embeddings (pools of weights).
    cheb_k : int, default=2
        Chebyshev terms of the learned adjacency, identity included (>= 1).
    k : int, default=0
        Diffusion hops of the given graph (0: the paper's layer, no given graph).
    normalization : {"random_walk", "gcn", "none"}, default="random_walk"
        Operators of the given graph (:func:`~graphbias.nn.diffusion_conv.diffusion_supports`).
    """

    def __init__(self, in_channels: int, out_channels: int, embedding: int, cheb_k: int = 2,
                 k: int = 0, normalization: str = "random_walk") -> None:
        super().__init__()
        if cheb_k < 1 or k < 0:
            raise ValueError(f"NodeAdaptiveConv needs cheb_k >= 1 and k >= 0, got "
                             f"cheb_k={cheb_k}, k={k}")
        check_normalization(normalization)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.cheb_k, self.k, self.normalization = cheb_k, k, normalization
        terms = cheb_k + (2 if normalization == "random_walk" else 1) * k
        self.weight_pool = torch.nn.Parameter(torch.empty(embedding, terms * in_channels,
                                                          out_channels))
        self.bias_pool = torch.nn.Parameter(torch.zeros(embedding, out_channels))
        # every node's W_n starts at Glorot's scale given embeddings of sd EMBEDDING_SD
        bound = math.sqrt(6.0 / (terms * in_channels + out_channels) / embedding) / EMBEDDING_SD
        torch.nn.init.uniform_(self.weight_pool, -bound, bound)

    def node_weights(self, embedding: Tensor) -> tuple[Tensor, Tensor]:
        """Per-node weights ``[N, terms * in_channels, out_channels]`` and biases
        ``[N, 1, out_channels]`` of node embeddings ``[N, d]``."""
        d, rows, cols = self.weight_pool.shape
        weight = (embedding @ self.weight_pool.reshape(d, -1)).view(-1, rows, cols)
        return weight, (embedding @ self.bias_pool).unsqueeze(1)

    def forward(self, x: Tensor, context: _Context) -> Tensor:
        if self not in context.weights:
            context.weights[self] = self.node_weights(context.embedding)
        weight, bias = context.weights[self]
        N, B, _ = x.shape
        adj, blocks = context.adjacency, context.blocks
        terms = [x]
        if self.cheb_k > 1:
            terms.append(within_blocks(adj, x, blocks))
        for _ in range(2, self.cheb_k):
            terms.append(2 * within_blocks(adj, terms[-1], blocks) - terms[-2])
        terms += diffusion_terms(x, context.graph, self.k, self.normalization)
        z = torch.cat(terms, -1)  # [N, B, terms * in]
        if blocks > 1:  # node n of every block shares W_n: blocks become batch rows
            z = z.view(blocks, N // blocks, B, -1).transpose(0, 1).reshape(N // blocks,
                                                                             blocks * B, -1)
        out = torch.baddbmm(bias, z, weight)
        if blocks > 1:
            out = out.view(N // blocks, blocks, B, -1).transpose(0, 1).reshape(N, B, -1)
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, embedding="
                f"{self.weight_pool.size(0)}, cheb_k={self.cheb_k}, k={self.k}")


class AGCRN(torch.nn.Module):
    r"""Adaptive Graph Convolutional Recurrent Network (Bai et al., NeurIPS 2020).

    Stacked GRU cells (:class:`~graphbias.nn.GraphGRUCell`) whose gates are
    :class:`NodeAdaptiveConv` run over the window; a linear map of the last
    layer's final state emits all ``horizon`` steps (the paper's end convolution):

    .. math::

        h^{(l)}_t = \mathrm{AGCRU}^{(l)}\big(h^{(l-1)}_t, h^{(l)}_{t-1}\big),\qquad
        \hat y_{n} = W_o\, h^{(L)}_{W, n} + b_o \in \mathbb R^{H \times F_{out}}.

    With ``k=0`` (the default) this is the paper's model and the graph passed to
    :meth:`forward` is not read; with ``k > 0`` every gate also diffuses over it.
    The paper's settings are ``hidden_channels=64``, ``num_layers=2``,
    ``embedding=10``, ``cheb_k=2``.

    Parameters
    ----------
    in_channels : int
        Input features per node and step.
    out_channels : int
        Forecast features per node and step.
    horizon : int
        Steps forecast at once (H).
    num_nodes : int
        Nodes of the series (rows of the node embeddings).
    hidden_channels : int, default=64
        State width of every cell.
    num_layers : int, default=2
        Stacked cells.
    embedding : int, default=10
        Width of the node embeddings.
    cheb_k : int, default=2
        Chebyshev terms of the learned adjacency, identity included.
    k : int, default=0
        Diffusion hops of the given graph in every gate (not in the paper).
    normalization : {"random_walk", "gcn", "none"}, default="random_walk"
        Operators of the given graph.
    future_channels : int, default=0
        Known covariates per target step and node, read by a
        :class:`~graphbias.forecast.HorizonReadout` of the final state added to the
        readout (``k`` hops of the last input step's graph; 0: none).

    Examples
    --------
    >>> import torch
    >>> from graphbias.data import Graph
    >>> m = AGCRN(2, 1, horizon=3, num_nodes=6, hidden_channels=8)
    >>> m(torch.randn(4, 5, 6, 2), None).shape      # the paper's model reads no graph
    torch.Size([4, 3, 6, 1])
    >>> g = Graph(torch.tensor([[0, 1], [1, 2]]), 6)
    >>> graphed = AGCRN(2, 1, horizon=3, num_nodes=6, hidden_channels=8, k=2)
    >>> graphed(torch.randn(4, 5, 6, 2), g).shape     # k hops of the given graph too
    torch.Size([4, 3, 6, 1])
    """

    def __init__(self, in_channels: int, out_channels: int, horizon: int, num_nodes: int,
                 hidden_channels: int = 64, num_layers: int = 2, embedding: int = 10,
                 cheb_k: int = 2, k: int = 0, normalization: str = "random_walk", *,
                 future_channels: int = 0) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"AGCRN needs num_layers >= 1, got {num_layers}")
        self.horizon, self.out_channels, self.k = horizon, out_channels, k
        self.embedding = torch.nn.Parameter(EMBEDDING_SD * torch.randn(num_nodes, embedding))

        def conv(i: int, o: int) -> NodeAdaptiveConv:
            return NodeAdaptiveConv(i, o, embedding, cheb_k, k, normalization)

        self.cells = torch.nn.ModuleList(
            GraphGRUCell(in_channels if i == 0 else hidden_channels, hidden_channels, conv=conv)
            for i in range(num_layers))
        self.readout = torch.nn.Linear(hidden_channels, horizon * out_channels)
        self.future_channels = future_channels
        self.future_readout = (HorizonReadout(hidden_channels, future_channels, out_channels,
                                              horizon, k=k, normalization=normalization)
                               if future_channels else None)

    def adaptive_adjacency(self) -> Tensor:
        r"""The learned adjacency :math:`\tilde A = \mathrm{softmax}(\mathrm{ReLU}(E E^\top))`
        (row-stochastic, ``[num_nodes, num_nodes]``)."""
        return torch.softmax(torch.relu(self.embedding @ self.embedding.T), dim=1)

    def forward(self, x: Tensor, graph: Any, future: Optional[Tensor] = None) -> Tensor:
        """Forecasts ``[B, H, N, out_channels]`` from ``x: [B, W, N, in_channels]``
        (and ``future: [B, H, N, future_channels]`` when the model reads it).

        ``graph`` (read only with ``k > 0``) is one graph or a sequence of ``W``
        graphs, step ``t`` then running on ``graph[t]``. ``N`` may be a multiple of
        ``num_nodes``: node ``b * num_nodes + n`` is node ``n`` of block ``b``
        (windows side by side, ``graph`` their block-diagonal union); the learned
        adjacency acts within each block and node ``n`` of every block has node
        ``n``'s weights."""
        check_future(self, future, x)
        W = x.size(1)
        blocks = node_blocks(self, self.embedding.size(0), x.size(2))
        if self.k and graph is None:
            raise ValueError(f"AGCRN with k={self.k} diffuses over the given graph, "
                             "but graph is None (k=0 reads no graph)")
        steps = _step_graphs(graph, W) if self.k else [None] * W
        context = _Context(self.adaptive_adjacency(), self.embedding, blocks)
        x = x.permute(2, 1, 0, 3)  # [N, W, B, F]
        hs: list[Optional[Tensor]] = [None] * len(self.cells)
        for t in range(W):
            context.graph = steps[t]
            h = x[:, t]
            for i, cell in enumerate(self.cells):
                hs[i] = h = cell(h, hs[i], context)
        return horizon_output(self, h, future, steps[-1])
