r"""LA-models: parallel first layers over original and generated features.

.. math::
    \mathbf{H}^{(1)} = \Big\Vert_{k=0}^{K} \sigma\big(\operatorname{conv}_k(
    \bar{\mathbf{X}}_k, \mathcal G)\big), \qquad
    \bar{\mathbf{X}}_0 = \mathbf{X}, \ \bar{\mathbf{X}}_{1..K} \sim
    p_\theta(\cdot \mid \mathbf{X})

then the convolution's remaining layers on :math:`\mathbf{H}^{(1)}` (Liu et al.,
ICML 2022, section 3.2). Any :mod:`graphbias.nn` convolution (called as
``conv(x, graph)``) or PyG convolution (called as ``conv(x, edge_index)``) can be
the convolution.
"""
from __future__ import annotations

import inspect
from typing import Any, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from .._validation import Constraint
from ..data.graph import Graph
from ..nn import GATConv, GCNConv, SAGEConv
from ..nn.functional import Features, dropout
from ..ops.csr import CSR

__all__ = ["LAGNN", "BACKBONES", "ConvClass", "consistency_loss", "resolve_conv",
           "is_attention"]

#: the convolutions by name
BACKBONES = {"gcn": GCNConv, "sage": SAGEConv, "gat": GATConv}

Conv = Union[str, type]


class ConvClass(Constraint):
    """A ``torch.nn.Module`` subclass: a convolution class such as
    :class:`graphbias.nn.GCNConv` or ``torch_geometric.nn.GCNConv``.

    Examples
    --------
    >>> from graphbias.nn import GATConv
    >>> ConvClass().accepts(GATConv), ConvClass().accepts("gat")
    (True, False)
    """

    def accepts(self, value: Any) -> bool:
        return inspect.isclass(value) and issubclass(value, torch.nn.Module)

    def describe(self) -> str:
        return "a torch.nn.Module convolution class"


def resolve_conv(conv: Conv) -> type:
    """The convolution class of a name in :data:`BACKBONES`, or the class itself.

    Parameters
    ----------
    conv : str or type
        ``"gcn"``, ``"sage"``, ``"gat"`` or a ``torch.nn.Module`` subclass.

    Returns
    -------
    type

    Examples
    --------
    >>> resolve_conv("sage").__name__
    'SAGEConv'
    """
    if isinstance(conv, str):
        if conv not in BACKBONES:
            raise ValueError(f"conv must be one of {tuple(BACKBONES)} or a "
                             f"convolution class, got {conv!r}")
        return BACKBONES[conv]
    if not ConvClass().accepts(conv):
        raise ValueError(f"conv must be one of {tuple(BACKBONES)} or a "
                         f"torch.nn.Module convolution class, got {conv!r}")
    return conv


def _is_pyg(cls: type) -> bool:
    try:
        from torch_geometric.nn.conv import MessagePassing
    except ImportError:  # pragma: no cover - PyG is optional
        return False
    return issubclass(cls, MessagePassing)


def is_attention(cls: type) -> bool:
    """Whether a convolution class takes ``heads`` (GAT-like).

    Parameters
    ----------
    cls : type
        A convolution class.

    Returns
    -------
    bool

    Examples
    --------
    >>> from graphbias.nn import GATConv, GCNConv
    >>> is_attention(GATConv), is_attention(GCNConv)
    (True, False)
    """
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

    Parameters
    ----------
    probs : sequence of Tensor of shape (N, C)
        The ``S`` predicted class distributions.
    temperature : float
        Sharpening temperature :math:`T` (below 1 sharpens).
    reduction : {"mean", "none"}, default="mean"
        ``"none"`` returns the ``[N]`` per-node terms instead of their mean.

    Returns
    -------
    Tensor
        A scalar, or ``[N]`` with ``reduction="none"``.

    Examples
    --------
    >>> import torch
    >>> p = torch.eye(3)
    >>> float(consistency_loss([p, p], 0.5))
    0.0
    >>> consistency_loss([p, torch.full((3, 3), 1 / 3)], 0.5, "none").shape
    torch.Size([3])
    """
    if reduction not in ("mean", "none"):
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    mean = torch.stack(list(probs)).mean(0)
    sharp = mean.pow(1.0 / temperature)
    sharp = (sharp / sharp.sum(1, keepdim=True)).detach()
    per_node = torch.stack([(p - sharp).pow(2).sum(1) for p in probs]).mean(0)
    return per_node.mean() if reduction == "mean" else per_node


class LAGNN(torch.nn.Module):
    r"""A GNN whose first layer is ``1 + n_generated`` parallel convolutions.

    The first layer convolves the original features and each generated matrix
    with its own weights and concatenates the outputs,
    :math:`\mathbf{H}^{(1)} = \Vert_{k=0}^{K} \sigma(\operatorname{conv}_k(
    \bar{\mathbf{X}}_k, \mathcal G))`; ``num_layers - 1`` layers of the same
    convolution follow. Dropout precedes every convolution; ReLU (ELU for
    attention convolutions) follows every layer but the last. For a convolution
    with a ``heads`` argument (GAT) hidden layers concatenate ``heads`` heads and
    the output layer averages ``out_heads``; attention dropout equals ``dropout``.

    Parameters
    ----------
    conv : {"gcn", "sage", "gat"} or type
        The convolution: a name or a :mod:`graphbias.nn` / ``torch_geometric.nn``
        convolution class.
    in_channels : int
        Feature dimension.
    hidden_channels : int
        Hidden units per branch (per head for attention).
    out_channels : int
        Output dimension (classes).
    n_generated : int, default=1
        Generated matrices, one branch each.
    num_layers : int, default=2
        Layers, the parallel first one included (at least 2).
    dropout : float, default=0.5
        Dropout before every convolution.
    heads : int, default=8
        Heads of the hidden attention layers.
    out_heads : int, default=1
        Heads of the output attention layer (averaged).

    Attributes
    ----------
    branches : torch.nn.ModuleList
        The ``1 + n_generated`` first-layer convolutions.
    layers : torch.nn.ModuleList
        The remaining convolutions.
    conv_class : type
        The convolution class.

    Examples
    --------
    >>> import torch
    >>> from graphbias.data.synthetic import karate_club
    >>> g = karate_club()
    >>> model = LAGNN("gcn", g.num_features, 4, 2, n_generated=2)
    >>> x = torch.as_tensor(g.x).float()
    >>> model(x, [x.clone(), x.clone()], g).shape
    torch.Size([34, 2])
    """

    def __init__(self, conv: Conv, in_channels: int, hidden_channels: int,
                 out_channels: int, *, n_generated: int = 1, num_layers: int = 2,
                 dropout: float = 0.5, heads: int = 8, out_heads: int = 1) -> None:
        super().__init__()
        if num_layers < 2:
            raise ValueError(f"num_layers must be >= 2 (parallel first layers, then "
                             f"the convolution's), got {num_layers}")
        if n_generated < 1:
            raise ValueError(f"n_generated must be >= 1, got {n_generated}")
        self.conv_class = resolve_conv(conv)
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

    def forward(self, x: Features, generated: Sequence[Features], graph: Graph) -> Tensor:
        """Logits ``[N, out_channels]``.

        Parameters
        ----------
        x : Tensor or CSR of shape (N, in_channels)
            Node features, dense or sparse.
        generated : sequence of Tensor or CSR of shape (N, in_channels)
            The ``n_generated`` generated matrices.
        graph : Graph
            The graph of the ``N`` nodes.

        Returns
        -------
        Tensor of shape (N, out_channels)
        """
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
