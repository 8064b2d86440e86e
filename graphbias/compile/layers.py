r"""The building blocks compiled networks are made of.

- :class:`Affine`: a linear map :math:`y = W x + b` over named node channels.
  Its parameters ``weight`` and ``bias`` (float64) are written in units: an
  entry marked with :func:`big` is a multiple of the sentinel :math:`B` (larger
  than any id or distance of the input), every other entry a plain number, so
  :math:`W = \theta_W \odot U_W` with :math:`U` holding :math:`B` or 1. The
  compiled (analytic) values of :math:`\theta` are small multiples of 1/2, the
  same for every :math:`B`; :math:`B` comes with the input
  (:attr:`GraphBatch.big <graphbias.compile.graphs.GraphBatch>`).
- :func:`step`: the Heaviside step :math:`H(x) = [x \ge 0]` (``NaN`` gives 0);
  a comparison :math:`a \le b` is :math:`H(b - a)`, a conjunction of flags
  :math:`g_1 \wedge g_2` is :math:`H(g_1 + g_2 - 3/2)` (thresholds sit half-way
  between the integer values they separate, so the compiled point has a margin).
- :func:`select`: a ReLU gate :math:`\mathrm{select}(g, a, b) = b +
  \mathrm{ReLU}(a - b - M(1-g)) - \mathrm{ReLU}(b - a - M(1-g))`, which is
  :math:`a` when :math:`g = 1` and :math:`b` when :math:`g = 0` (for
  :math:`|a - b| < M`); exact in float64 when :math:`a, b` are integers, or
  when :math:`b = 0`.
- :func:`soft_step` and :func:`soft_select`: the differentiable surrogates used
  while a network trains, :math:`\sigma(x / \tau)` and :math:`b + g (a - b)`;
  :func:`straight_through` takes the exact value forward and the surrogate's
  gradient backward, so a network in training computes exactly what it computes
  in evaluation.
- :func:`neighbour_min` / :func:`neighbour_max`: min / max aggregation over the
  in-neighbours (:func:`graphbias.ops.spmm` for node messages,
  :func:`graphbias.ops.segment_csr` for edge messages).
- :func:`graph_min` / :func:`graph_max`: the same over all nodes of each graph
  of a batch (a virtual node connected to every node), broadcast back.

The compiled layers keep every quantity that must be exact either an integer
(ids, flags, times: exact in float64 below :math:`2^{53}`) or a distance that
enters sums only beside terms that are exactly 0 when the result is used, so no
rounding differs from the reference's single ``d[u] + w`` addition.

**Symmetries.** An :class:`Affine` declared ``gate=True`` feeds only step
functions, so scaling its rows by any :math:`c > 0` changes nothing; one declared
``exchangeable=True`` has rows whose steps are summed, so permuting them changes
nothing. :mod:`graphbias.compile.gap` aligns learned parameters over these
symmetries before measuring their distance to the compiled ones.
"""
from __future__ import annotations

from typing import Sequence, Union

import torch
from torch import Tensor

from .. import ops
from ..ops import _compiled
from ..ops.csr import CSR

__all__ = ["BIG", "big", "Big", "Affine", "step", "soft_step", "select", "soft_select",
           "straight_through", "neighbour_min", "neighbour_max", "edge_min", "graph_min", "graph_max"]

BIG = 2.0 ** 50      # sentinel of exact runs: far above any id or distance they handle


class Big(float):
    """A weight entry in units of the sentinel :math:`B` (see :func:`big`)."""


def big(multiple: float) -> Big:
    """``multiple`` times the sentinel :math:`B`, as an :class:`Affine` entry.

    >>> big(-0.5) * 2, isinstance(big(1), Big)
    (-1.0, True)
    """
    return Big(multiple)


Entry = Union[float, Big]


def _split(values: Sequence, name: str) -> tuple[Tensor, Tensor]:
    """``(theta, in_units_of_B)`` of a nested list of entries."""
    theta = torch.tensor(values, dtype=torch.float64)
    flat = [x for row in values for x in row] if theta.dim() == 2 else list(values)
    units = torch.tensor([isinstance(x, Big) for x in flat]).reshape(theta.shape)
    if not bool(torch.isfinite(theta).all()):
        raise ValueError(f"Affine {name} has a non-finite entry")
    return theta, units


class Affine(torch.nn.Module):
    """``y = W [x_1, ..., x_k] + b`` over the named channels ``inputs``, ``W`` and
    ``b`` in units (see the module docstring).

    Parameters
    ----------
    inputs : sequence of str
        The channels read, in the order of ``W``'s columns.
    weight : list of list of float
        ``[out, k]`` entries; :func:`big` marks those in units of :math:`B`.
    bias : list of float
        ``[out]`` entries, marked the same way.
    gate : bool, default=False
        The output feeds only step functions (positive row scaling is a symmetry).
    exchangeable : bool, default=False
        The rows' steps are summed (row permutation is a symmetry).

    Examples
    --------
    >>> import torch
    >>> message = Affine(["id", "reach"], [[1.0, big(-1)]], [big(1)])
    >>> x = dict(id=torch.tensor([3.0, 3.0]), reach=torch.tensor([1.0, 0.0]))
    >>> message(64.0, **{k: v.double() for k, v in x.items()})
    tensor([ 3., 67.], dtype=torch.float64)
    """

    def __init__(self, inputs: Sequence[str], weight: Sequence[Sequence[Entry]],
                 bias: Sequence[Entry], *, gate: bool = False,
                 exchangeable: bool = False) -> None:
        super().__init__()
        self.inputs = tuple(inputs)
        w, w_big = _split(weight, "weight")
        b, b_big = _split(bias, "bias")
        if w.dim() != 2 or w.size(1) != len(self.inputs) or b.shape != (w.size(0),):
            raise ValueError(f"Affine over {self.inputs}: weight {tuple(w.shape)} and "
                             f"bias {tuple(b.shape)} do not match")
        self.weight = torch.nn.Parameter(w, requires_grad=False)
        self.bias = torch.nn.Parameter(b, requires_grad=False)
        self.register_buffer("weight_big", w_big)
        self.register_buffer("bias_big", b_big)
        self.gate = gate
        self.exchangeable = exchangeable

    def effective(self, sentinel: float) -> tuple[Tensor, Tensor]:
        """``(W, b)`` with the entries in units of :math:`B` multiplied by ``sentinel``.

        Outside autograd the result is kept until the sentinel or a parameter
        changes (in place, or replaced by ``to``/``load_state_dict``), so a long
        run does not rebuild it at every layer.
        """
        return self._resolved(sentinel)[0]

    def _resolved(self, sentinel: float
                  ) -> tuple[tuple[Tensor, Tensor], tuple[Tensor, tuple[Tensor, ...]]]:
        """``((W, b), (b_0, (W_00, W_01, ...)))``: the effective parameters and, for
        a one-row map, its entries as 0-d tensors (kept with the cache, so a long
        run does not index them again at every layer)."""
        tracked = torch.is_grad_enabled() and (self.weight.requires_grad
                                               or self.bias.requires_grad)
        key = (sentinel, self.weight._version, self.bias._version,
               self.weight.data_ptr(), self.bias.data_ptr())
        cached = getattr(self, "_effective", None)
        if not tracked and cached is not None and cached[0] == key:
            return cached[1]
        w = torch.where(self.weight_big, self.weight * sentinel, self.weight)
        b = torch.where(self.bias_big, self.bias * sentinel, self.bias)
        resolved = ((w, b), (b[0], w[0].unbind()) if w.size(0) == 1 else (b, ()))
        if not tracked:
            self._effective = (key, resolved)
        return resolved

    def forward(self, sentinel: float, **channels: Tensor) -> Tensor:
        r"""``[M]`` for one output row, else ``[M, out]``.

        One row is computed as :math:`b + \sum_j w_j x_j` term by term, several
        as a matrix product; the compiled networks add at most one term that is
        not an integer or exactly 0, so both give the same float64 values.
        """
        (w, b), (y, row) = self._resolved(sentinel)
        if w.size(0) > 1:
            return torch.stack([channels[k] for k in self.inputs], -1) @ w.T + b
        for k, w_k in zip(self.inputs, row):
            y = torch.addcmul(y, channels[k], w_k)
        return y

    def extra_repr(self) -> str:
        flags = "".join([", gate" if self.gate else "",
                         ", exchangeable" if self.exchangeable else ""])
        return f"inputs={self.inputs}, out={self.weight.size(0)}{flags}"


def step(x: Tensor) -> Tensor:
    """Heaviside step ``[x >= 0]`` as float (``NaN`` gives 0)."""
    return (x >= 0).to(x.dtype)


def soft_step(x: Tensor, temperature: float) -> Tensor:
    r"""The training surrogate of :func:`step`: :math:`\sigma(x / \tau)`."""
    return torch.sigmoid(x / temperature)


def select(g: Tensor, a: Tensor, b: Tensor, margin: float) -> Tensor:
    """``a`` where the flag ``g`` is 1, ``b`` where it is 0, with two ReLUs
    (``|a - b| < margin``).

    Outside autograd on the CPU it runs as one compiled kernel
    (``graphbias::relu_select``) that performs the same operations in the same
    order, so both paths give the same bits.
    """
    if (g.shape == a.shape == b.shape and g.dtype == a.dtype == b.dtype
            and _compiled.cpu_kernel(a)
            and not (torch.is_grad_enabled()
                     and (g.requires_grad or a.requires_grad or b.requires_grad))):
        return torch.ops.graphbias.relu_select(g, a, b, margin)
    off = margin * (g - 1.0)                  # exactly 0 or -margin
    return b + torch.relu((a - b) + off) - torch.relu((b - a) + off)


def soft_select(g: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """The training surrogate of :func:`select`: ``b + g (a - b)``."""
    return b + g * (a - b)


def straight_through(hard: Tensor, soft: Tensor) -> Tensor:
    """``hard``'s value with ``soft``'s gradient: ``hard + (soft - soft.detach())``.

    >>> x = torch.tensor([0.5], requires_grad=True)
    >>> y = straight_through(step(x), soft_step(x, 1.0))
    >>> y.sum().backward()
    >>> y.item(), round(x.grad.item(), 4)
    (1.0, 0.235)
    """
    return hard + (soft - soft.detach())


def _fill_empty(out: Tensor, csr: CSR, empty: float) -> Tensor:
    deg = csr.degree().view((-1,) + (1,) * (out.dim() - 1))
    return torch.where(deg > 0, out, empty)


def neighbour_min(csr: CSR, x: Tensor, empty: float) -> Tensor:
    """``out[v] = min`` of ``x[u]`` over in-neighbours ``u`` (``empty`` if none)."""
    return _fill_empty(ops.spmm(csr, x, "min"), csr, empty)


def neighbour_max(csr: CSR, x: Tensor, empty: float = 0.0) -> Tensor:
    """``out[v] = max`` of ``x[u]`` over in-neighbours ``u`` (``empty`` if none)."""
    return _fill_empty(ops.spmm(csr, x, "max"), csr, empty)


def edge_min(csr: CSR, msg: Tensor, empty: float) -> Tensor:
    """Min of per-edge messages (in CSR order) into each receiving node."""
    return _fill_empty(ops.segment_csr(msg, csr.indptr, "min"), csr, empty)


def graph_min(x: Tensor, ptr: Tensor, batch: Tensor) -> Tensor:
    """Min of ``x`` over the nodes of each graph, broadcast to its nodes."""
    return ops.segment_csr(x, ptr, "min").index_select(0, batch)


def graph_max(x: Tensor, ptr: Tensor, batch: Tensor) -> Tensor:
    """Max of ``x`` over the nodes of each graph, broadcast to its nodes."""
    return ops.segment_csr(x, ptr, "max").index_select(0, batch)
