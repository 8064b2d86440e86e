r"""LA-backbones: parallel first layers over original and generated features.

.. math::
    \mathbf{H}^{(1)} = \Big\Vert_{k=0}^{K} \sigma\big(\operatorname{conv}_k(
    \bar{\mathbf{X}}_k, \mathcal G)\big), \qquad
    \bar{\mathbf{X}}_0 = \mathbf{X}, \ \bar{\mathbf{X}}_{1..K} \sim
    p_\theta(\cdot \mid \mathbf{X})

then the backbone's remaining layers on :math:`\mathbf{H}^{(1)}` (Liu et al., ICML
2022, section 3.2). Any :mod:`graphbias.nn` convolution (called as ``conv(x, graph)``)
or PyG convolution (called as ``conv(x, edge_index)``) can be the backbone.
"""
from __future__ import annotations

import inspect
from typing import Any, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.graph import Graph
from ..nn import GATConv, GCNConv, SAGEConv
from ..nn.functional import Features, dropout
from ..ops.csr import CSR

__all__ = ["LAGNN", "BACKBONES", "consistency_loss", "resolve_backbone", "is_attention"]

BACKBONES = {"gcn": GCNConv, "sage": SAGEConv, "gat": GATConv}

Backbone = Union[str, type]


def resolve_backbone(backbone: Backbone) -> type:
    """A convolution class from a name in :data:`BACKBONES` or the class itself."""
    if isinstance(backbone, str):
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {tuple(BACKBONES)} or a "
                             f"convolution class, got {backbone!r}")
        return BACKBONES[backbone]
    if not (inspect.isclass(backbone) and issubclass(backbone, torch.nn.Module)):
        raise ValueError(f"backbone must be one of {tuple(BACKBONES)} or a "
                         f"torch.nn.Module convolution class, got {backbone!r}")
    return backbone


def _is_pyg(cls: type) -> bool:
    try:
        from torch_geometric.nn.conv import MessagePassing
    except ImportError:  # pragma: no cover - PyG is optional
        return False
    return issubclass(cls, MessagePassing)


def is_attention(cls: type) -> bool:
    """Whether a convolution class takes ``heads`` (GAT-like)."""
    return "heads" in inspect.signature(cls.__init__).parameters


def consistency_loss(probs: Sequence[Tensor], temperature: float,
                     reduction: str = "mean") -> Tensor:
    r"""Consistency of ``S`` predictions :math:`P_s` with their sharpened mean,

    .. math::
        \bar P = \tfrac1S \textstyle\sum_s P_s, \quad
        \tilde P_{ic} = \bar P_{ic}^{1/T} \big/ \textstyle\sum_{c'} \bar P_{ic'}^{1/T},
        \quad \mathcal L_{con} = \tfrac1S \textstyle\sum_s \tfrac1N
        \lVert P_s - \tilde P \rVert_F^2,

    with :math:`\tilde P` held constant (no gradient), as in GRAND and LAGNN.
    ``reduction="none"`` returns the ``[N]`` per-node terms instead of their mean.
    """
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    mean = torch.stack(list(probs)).mean(0)
    sharp = mean.pow(1.0 / temperature)
    sharp = (sharp / sharp.sum(1, keepdim=True)).detach()
    per_node = torch.stack([(p - sharp).pow(2).sum(1) for p in probs]).mean(0)
    return per_node.mean() if reduction == "mean" else per_node


class LAGNN(torch.nn.Module):
    """A backbone GNN whose first layer is ``1 + n_generated`` parallel
    convolutions (original features first, then each generated matrix), outputs
    concatenated, followed by ``num_layers - 1`` layers of the backbone.

    Dropout precedes every convolution; ReLU (ELU for attention backbones)
    follows every layer but the last. For a backbone with a ``heads`` argument
    (GAT) hidden layers concatenate ``heads`` heads and the output layer averages
    ``out_heads``; attention dropout equals ``dropout``.

    ``forward(x, generated, graph)``: ``x`` dense or sparse (:class:`CSR`),
    ``generated`` a sequence of ``n_generated`` dense matrices of the same shape,
    ``graph`` a :class:`Graph`.
    """

    def __init__(self, backbone: Backbone, in_channels: int, hidden_channels: int,
                 out_channels: int, *, n_generated: int = 1, num_layers: int = 2,
                 dropout: float = 0.5, heads: int = 8, out_heads: int = 1) -> None:
        super().__init__()
        if num_layers < 2:
            raise ValueError(f"num_layers must be >= 2 (parallel first layers, then "
                             f"the backbone's), got {num_layers}")
        if n_generated < 1:
            raise ValueError(f"n_generated must be >= 1, got {n_generated}")
        self.conv_class = resolve_backbone(backbone)
        self.pyg = _is_pyg(self.conv_class)
        self.attention = is_attention(self.conv_class)
        self.dropout, self.heads, self.out_heads = dropout, heads, out_heads
        self.n_generated = n_generated
        self.branches = torch.nn.ModuleList(
            [self._conv(in_channels, hidden_channels, last=False)
             for _ in range(1 + n_generated)])
        width = (1 + n_generated) * self._width(hidden_channels)
        tail = []
        for i in range(1, num_layers):
            last = i == num_layers - 1
            tail.append(self._conv(width, out_channels if last else hidden_channels, last))
            width = self._width(hidden_channels)
        self.layers = torch.nn.ModuleList(tail)

    def _conv(self, in_channels: int, out_channels: int, last: bool) -> torch.nn.Module:
        kwargs: dict[str, Any] = {}
        if self.attention:
            kwargs = {"heads": self.out_heads if last else self.heads,
                      "concat": not last, "dropout": self.dropout}
        return self.conv_class(in_channels, out_channels, **kwargs)

    def _width(self, channels: int) -> int:
        return channels * self.heads if self.attention else channels

    def _call(self, layer: torch.nn.Module, h: Features, graph: Graph) -> Tensor:
        if self.pyg:
            if isinstance(h, CSR):
                h = h.to_dense()
            return layer(h, graph.edge_index)
        return layer(h, graph)

    def _activate(self, h: Tensor) -> Tensor:
        return F.elu(h) if self.attention else F.relu(h)

    def forward(self, x: Features, generated: Sequence[Tensor], graph: Graph) -> Tensor:
        if len(generated) != self.n_generated:
            raise ValueError(f"expected {self.n_generated} generated feature matrices, "
                             f"got {len(generated)}")
        inputs = [x, *generated]
        h: Tensor = torch.cat([
            self._activate(self._call(conv, dropout(xk, self.dropout, self.training), graph))
            for conv, xk in zip(self.branches, inputs)], dim=1)
        for i, layer in enumerate(self.layers):
            h = self._call(layer, dropout(h, self.dropout, self.training), graph)
            if i < len(self.layers) - 1:
                h = self._activate(h)
        return h
