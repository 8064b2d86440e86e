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

Several augmented passes run as one: :meth:`LAGNN.forward` with ``n_samples=S``
takes the ``S`` generated matrices of each branch stacked row-wise and runs every
layer once on the ``S``-fold disjoint union of the graph
(:func:`sample_union`), which gives each pass exactly what a pass of its own
would (the copies share no edge).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.graph import Graph
from ..data.transforms import gcn_norm, gcn_norm_key
from ..nn.functional import Features, dropout
from ..ops.csr import CSR
from .convs import Conv, ConvBuilder

__all__ = ["LAGNN", "consistency_loss", "sample_union", "stack_rows", "input_dropout",
           "Workspace"]

#: bits of the uniform draws behind :func:`input_dropout`'s masks on the CPU
_MASK_BITS = 16


def _block_csr(csr: CSR, copies: int) -> CSR:
    """The block-diagonal matrix of ``copies`` copies of a square ``csr``."""
    n, nnz = csr.num_rows, csr.nnz
    offsets = torch.arange(copies, device=csr.device)
    indptr = (csr.indptr[:-1].unsqueeze(0) + (offsets * nnz).unsqueeze(1)).reshape(-1)
    indptr = torch.cat([indptr, indptr.new_tensor([copies * nnz])])
    indices = (csr.indices.unsqueeze(0) + (offsets * n).unsqueeze(1)).reshape(-1)
    values = None if csr.values is None else csr.values.repeat(copies)
    return CSR(indptr, indices, (copies * n, copies * n), values)


def sample_union(graph: Graph, copies: int) -> Graph:
    """The disjoint union of ``copies`` copies of ``graph`` (node ``i`` of copy
    ``s`` is node ``s * N + i``), built once per graph and kept on it.

    A message-passing layer run once on the union and on ``copies`` row blocks of
    inputs gives each block what a run on ``graph`` alone gives (no edge crosses
    between copies). The union carries ``graph``'s GCN normalisation (block by
    block), so a normalisation seeded on a part of a larger graph (data-parallel
    training) is kept.

    Parameters
    ----------
    graph : Graph
        The graph.
    copies : int
        Number of copies (1 returns ``graph`` itself).

    Returns
    -------
    Graph
        ``copies * N`` nodes and ``copies * E`` edges, edge weights repeated.

    Examples
    --------
    >>> g = Graph(torch.tensor([[0, 1], [1, 2]]), 3)
    >>> sample_union(g, 2).edge_index.tolist()
    [[0, 1, 3, 4], [1, 2, 4, 5]]
    """
    if copies == 1:
        return graph

    def build() -> Graph:
        n, ei = graph.num_nodes, graph.edge_index
        shift = (torch.arange(copies, device=ei.device) * n).repeat_interleave(ei.size(1))
        weight = None if graph.edge_weight is None else graph.edge_weight.repeat(copies)
        union = Graph(ei.repeat(1, copies) + shift, copies * n, edge_weight=weight)
        try:
            norm = gcn_norm(graph)
        except ValueError:  # not normalisable (negative weights): neither is the union
            return union
        union.cached(gcn_norm_key(), lambda: _block_csr(norm, copies))
        return union

    return graph.cached(("lagnn_sample_union", copies), build)


def stack_rows(x: Features, copies: int) -> Features:
    """``copies`` copies of a dense or sparse (:class:`CSR`) matrix, stacked row-wise.

    Parameters
    ----------
    x : Tensor or CSR of shape (N, F)
        The matrix.
    copies : int
        Number of copies.

    Returns
    -------
    Tensor or CSR of shape (copies * N, F)

    Examples
    --------
    >>> stack_rows(torch.eye(2), 2).tolist()
    [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    """
    if copies == 1:
        return x
    if not isinstance(x, CSR):
        return x.repeat(copies, 1)
    offsets = torch.arange(copies, device=x.device) * x.nnz
    indptr = (x.indptr[:-1].unsqueeze(0) + offsets.unsqueeze(1)).reshape(-1)
    indptr = torch.cat([indptr, indptr.new_tensor([copies * x.nnz])])
    values = None if x.values is None else x.values.repeat(copies)
    return CSR(indptr, x.indices.repeat(copies), (copies * x.num_rows, x.num_cols), values)


class Workspace:
    """Scratch memory reused from one training step to the next.

    The generated ``[S N, F]`` matrices and their dropout masks are the largest
    tensors of a step; allocating them afresh every step costs the operating
    system's zeroing of new pages (on the CPU, about as much as computing them).
    A workspace keeps one buffer per name and hands out views of it.

    Examples
    --------
    >>> ws = Workspace()
    >>> a = ws.buffer("mask", 6, torch.float32, torch.device("cpu"))
    >>> b = ws.buffer("mask", 4, torch.float32, torch.device("cpu"))
    >>> a.data_ptr() == b.data_ptr(), tuple(b.shape)
    (True, (4,))
    """

    def __init__(self) -> None:
        self._buffers: dict[str, Tensor] = {}

    def buffer(self, name: str, numel: int, dtype: torch.dtype,
               device: torch.device) -> Tensor:
        """A 1-D tensor of ``numel`` entries (uninitialised), the same memory as the
        last call with ``name`` when that was large enough and of the same type."""
        held = self._buffers.get(name)
        if held is None or held.numel() < numel or held.dtype != dtype or \
                held.device != device:
            held = torch.empty(numel, dtype=dtype, device=device)
            self._buffers[name] = held
        return held[:numel]


def _mask_memory(name: str, numel: int, dtype: torch.dtype,
                 workspace: Optional[Workspace]) -> Tensor:
    cpu = torch.device("cpu")
    if workspace is None:
        return torch.empty(numel, dtype=dtype)
    return workspace.buffer(name, numel, dtype, cpu)


def _random_words(numel: int, workspace: Optional[Workspace]) -> Tensor:
    """``numel`` random 32-bit words (torch's global generator, 64 bits a draw)."""
    words = _mask_memory("mask_words", -(-numel // 2), torch.int64, workspace)
    torch.randint(-2 ** 63, 2 ** 63 - 1, (words.numel(),), out=words)
    return words.view(torch.int32)[:numel]


def _half_mask(numel: int, workspace: Optional[Workspace]) -> Tensor:
    """Entries 2.0 and 0.0 with probability 1/2 each, one random bit per entry: bit
    ``j`` of a word is shifted to bit 30, the exponent bit that makes 2.0."""
    per_word = 31
    words = _random_words(-(-numel // per_word), workspace)
    bits = _mask_memory("mask", words.numel() * per_word, torch.int32, workspace)
    shifts = 30 - torch.arange(per_word, dtype=torch.int32)
    # every word shifted 31 ways in one broadcast pass, written into the mask
    bits = torch.bitwise_left_shift(words.unsqueeze(1), shifts, out=bits.view(-1, per_word))
    bits.bitwise_and_(0x40000000)
    return bits.view(torch.float32).view(-1)[:numel]


def _uniform_mask(numel: int, p: float, workspace: Optional[Workspace]) -> Tensor:
    r"""Entries ``1/q`` and 0 from 16-bit uniforms ``k``: kept when
    :math:`k / 2^{16} \ge p`."""
    words = _random_words(-(-numel // 2), workspace)
    floats = _mask_memory("mask", 2 * words.numel(), torch.int32, workspace)
    low, high = floats.view(2, -1)
    low.copy_(words).bitwise_and_(0xFFFF).bitwise_left_shift_(7)
    high.copy_(words).bitwise_right_shift_(9).bitwise_and_(0x007FFF80)
    # 1 + k / 2**16 in [1, 2): the uniform in the top mantissa bits of 1.0
    uniform = floats.bitwise_or_(0x3F800000).view(torch.float32)[:numel]
    kept = 1.0 - math.ceil(p * 2 ** _MASK_BITS) / 2 ** _MASK_BITS
    return uniform.sub_(p).floor_().mul_(1.0 / kept)


def _keep_mask(shape: torch.Size, p: float, workspace: Optional[Workspace] = None
               ) -> Tensor:
    r"""A CPU dropout mask with entries :math:`1/q` (kept) and 0 (dropped).

    For ``p = 0.5`` each entry is one random bit. Otherwise each entry compares a
    16-bit uniform :math:`k \in \{0, \dots, 2^{16}-1\}` with ``p``: kept when
    :math:`k / 2^{16} \ge p`, so :math:`q = 1 - \lceil p\, 2^{16} \rceil / 2^{16}`
    (``1 - p`` itself when ``p`` is a multiple of :math:`2^{-16}`; within
    :math:`2^{-16}` otherwise), and kept entries are scaled by :math:`1/q`: the
    mean is exactly preserved. The bits come from 64-bit draws of torch's global
    generator and the floats are built with integer operations, several times
    cheaper than a float uniform per entry.
    """
    numel = math.prod(shape)
    if p == 0.5:
        return _half_mask(numel, workspace).view(shape)
    return _uniform_mask(numel, p, workspace).view(shape)


def input_dropout(x: Features, p: float, training: bool,
                  workspace: Optional[Workspace] = None) -> Features:
    """Dropout of a layer's input, dense or sparse.

    Sparse (:class:`CSR`) inputs drop stored entries only
    (:func:`graphbias.nn.functional.dropout`); dense inputs on the CPU use a mask
    built from 16-bit uniforms (the same distribution up to a keep probability
    rounded to a multiple of :math:`2^{-16}`, mean preserved), which on a
    generated ``[S N, F]`` matrix costs a fraction of a float uniform per entry;
    other devices use :func:`torch.nn.functional.dropout`.

    Parameters
    ----------
    x : Tensor or CSR
        The input.
    p : float
        Probability of dropping an entry, in ``[0, 1)``.
    training : bool
        Without training the input is returned as is.
    workspace : Workspace, optional
        With it, a dense ``x`` may be overwritten (pass a tensor that is not
        needed afterwards) and the mask lives in the workspace's memory.

    Returns
    -------
    Tensor or CSR

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> out = input_dropout(torch.ones(1000, 100), 0.5, True)
    >>> sorted(out.unique().tolist()), round(float(out.mean()), 1)
    ([0.0, 2.0], 1.0)
    """
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if isinstance(x, CSR) or x.device.type != "cpu" or x.dtype != torch.float32 or \
            p > 1.0 - 2.0 ** -_MASK_BITS:
        return dropout(x, p, training)
    mask = _keep_mask(x.shape, p, workspace)
    return x.mul_(mask) if workspace is not None else x * mask


def consistency_loss(probs: Union[Tensor, Sequence[Tensor]], temperature: float,
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
    probs : Tensor of shape (S, N, C) or sequence of Tensor of shape (N, C)
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
    stacked = probs if isinstance(probs, Tensor) else torch.stack(list(probs))
    sharp = stacked.mean(0).pow(1.0 / temperature)
    sharp = (sharp / sharp.sum(1, keepdim=True)).detach()
    per_node = (stacked - sharp).pow(2).sum(2).mean(0)
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

    ``forward(x, generated, graph, n_samples=S)`` runs ``S`` passes at once, each
    with its own generated matrices and dropout masks: every layer runs once on
    the ``S``-fold disjoint union of the graph (:func:`sample_union`). Without
    training (no dropout) the original-feature branch is computed once and shared
    by the ``S`` passes.

    Parameters
    ----------
    conv : {"gcn", "sage", "gat"}, type or callable
        The convolution: a name, a :mod:`graphbias.nn` / ``torch_geometric.nn`` (or
        own) convolution class, or a factory ``(in_channels, out_channels,
        **kwargs) -> module`` such as ``functools.partial(GATv2Conv, heads=2)``;
        see :mod:`graphbias.augment.convs` for how each is built and called.
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
    conv_kwargs : dict or None, default=None
        Constructor keyword arguments of every convolution (e.g. ``{"K": 2}`` for
        ``ChebConv``); they override the attention settings above.

    Attributes
    ----------
    branches : torch.nn.ModuleList
        The ``1 + n_generated`` first-layer convolutions.
    layers : torch.nn.ModuleList
        The remaining convolutions.
    conv_class : type
        The class of the built convolutions.

    Raises
    ------
    ValueError
        When ``conv`` cannot be an LA convolution; the message says why (see
        :mod:`graphbias.augment.convs`).

    Examples
    --------
    >>> import torch
    >>> from graphbias.data.synthetic import karate_club
    >>> g = karate_club()
    >>> model = LAGNN("gcn", g.num_features, 4, 2, n_generated=2)
    >>> x = torch.as_tensor(g.x).float()
    >>> model(x, [x.clone(), x.clone()], g).shape
    torch.Size([34, 2])
    >>> three = [torch.cat([x, x, x]), torch.cat([x, x, x])]   # 3 passes, stacked
    >>> model(x, three, g, n_samples=3).shape
    torch.Size([3, 34, 2])
    """

    def __init__(self, conv: Conv, in_channels: int, hidden_channels: int,
                 out_channels: int, *, n_generated: int = 1, num_layers: int = 2,
                 dropout: float = 0.5, heads: int = 8, out_heads: int = 1,
                 conv_kwargs: Optional[dict[str, Any]] = None) -> None:
        super().__init__()
        if num_layers < 2:
            raise ValueError(f"num_layers must be >= 2 (parallel first layers, then "
                             f"the convolution's), got {num_layers}")
        if n_generated < 1:
            raise ValueError(f"n_generated must be >= 1, got {n_generated}")
        builder = ConvBuilder(conv, conv_kwargs)
        self.attention = builder.attention
        self.dropout, self.heads, self.out_heads = dropout, heads, out_heads
        self.n_generated = n_generated
        settings = {"heads": heads, "out_heads": out_heads, "dropout": dropout}
        branches, widths = zip(*[builder.build(in_channels, hidden_channels, **settings)
                                 for _ in range(1 + n_generated)])
        self.branches = torch.nn.ModuleList(branches)
        self.conv_class = type(branches[0])
        width, tail = sum(widths), []
        for i in range(1, num_layers):
            last = i == num_layers - 1
            layer, width = builder.build(width, out_channels if last else hidden_channels,
                                         last=last, **settings)
            tail.append(layer)
        if width != out_channels:
            hint = " (an attention output layer needs concat=False)" \
                if builder.attention else ""
            raise ValueError(f"the output layer {builder.name} returns {width} features "
                             f"per node, not out_channels={out_channels}{hint}")
        self.layers = torch.nn.ModuleList(tail)

    @staticmethod
    def _call(layer: torch.nn.Module, h: Features, graph: Graph) -> Tensor:
        return ConvBuilder.call(layer, h, graph)

    def _activate(self, h: Tensor) -> Tensor:
        return F.elu(h) if self.attention else F.relu(h)

    def _branch_inputs(self, x: Features, n_samples: int, n: int) -> tuple[Features, bool]:
        """The original features of ``n_samples`` passes and whether they are one
        copy per pass: ``x`` itself when it is already stacked (``n_samples * n``
        rows); else stacked for training, one copy without it (the passes then
        share the branch's output)."""
        rows = x.size(0) if isinstance(x, Tensor) else x.num_rows
        if rows not in (n, n_samples * n):
            raise ValueError(f"x needs {n} rows (one per node) or {n_samples} x {n} "
                             f"(stacked passes), got {rows}")
        if n_samples > 1 and rows == n_samples * n:
            return x, True
        return (stack_rows(x, n_samples), True) if self.training else (x, n_samples == 1)

    def forward(self, x: Features, generated: Sequence[Features], graph: Graph,
                n_samples: Optional[int] = None,
                workspace: Optional[Workspace] = None) -> Tensor:
        """Logits of one pass, or of ``n_samples`` passes at once.

        Parameters
        ----------
        x : Tensor or CSR of shape (N, in_channels)
            Node features, dense or sparse; with ``n_samples`` also their
            ``n_samples`` copies stacked row-wise (:func:`stack_rows`), which a
            training loop can make once and pass at every step.
        generated : sequence of Tensor or CSR
            The ``n_generated`` generated matrices, each ``(N, in_channels)``, or
            with ``n_samples`` each ``(n_samples * N, in_channels)``: the
            matrices of the passes stacked row-wise, pass after pass.
        graph : Graph
            The graph of the ``N`` nodes.
        n_samples : int, optional
            Number of passes (``None``: one pass, logits ``(N, out_channels)``).
        workspace : Workspace, optional
            Scratch memory for the dropout masks of the generated matrices, which
            are then overwritten by their dropout (pass matrices drawn for this
            call only).

        Returns
        -------
        Tensor of shape (N, out_channels) or (n_samples, N, out_channels)
        """
        if len(generated) != self.n_generated:
            raise ValueError(f"expected {self.n_generated} generated feature matrices, "
                             f"got {len(generated)}")
        passes = 1 if n_samples is None else n_samples
        n = graph.num_nodes
        rows = [m.size(0) if isinstance(m, Tensor) else m.num_rows for m in generated]
        if any(r != passes * n for r in rows):
            raise ValueError(f"each generated matrix needs {passes} x {n} rows "
                             f"({passes} passes of {n} nodes), got {rows}")
        union = sample_union(graph, passes)
        original, per_pass = self._branch_inputs(x, passes, n)
        h0 = self._activate(self._call(
            self.branches[0], input_dropout(original, self.dropout, self.training),
            union if per_pass else graph))
        if not per_pass:
            h0 = h0.repeat(passes, 1)
        # every block dropped out before any is read: blocks of one workspace share
        # a version counter, which autograd checks
        dropped = [input_dropout(xk, self.dropout, self.training, workspace)
                   for xk in generated]
        h = torch.cat([h0] + [self._activate(self._call(conv, xk, union))
                              for conv, xk in zip(self.branches[1:], dropped)], dim=1)
        for i, layer in enumerate(self.layers):
            h = self._call(layer, input_dropout(h, self.dropout, self.training), union)
            if i < len(self.layers) - 1:
                h = self._activate(h)
        return h if n_samples is None else h.view(passes, n, -1)
