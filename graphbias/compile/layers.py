r"""The building blocks compiled networks are made of.

- :class:`Affine`: a linear map :math:`y = W x + b` over named node channels,
  weights fixed at construction (float64 parameters, ``requires_grad=False``).
- :func:`step`: the Heaviside step :math:`H(x) = [x \ge 0]` (``NaN`` gives 0);
  a comparison :math:`a \le b` is :math:`H(b - a)`, a conjunction of flags
  :math:`g_1 \wedge g_2` is :math:`H(g_1 + g_2 - 2)`.
- :func:`select`: a ReLU gate :math:`\mathrm{select}(g, a, b) = b +
  \mathrm{ReLU}(a - b - M(1-g)) - \mathrm{ReLU}(b - a - M(1-g))`, which is
  :math:`a` when :math:`g = 1` and :math:`b` when :math:`g = 0` (for
  :math:`|a - b| < M`); exact in float64 when :math:`a, b` are integers, or
  when :math:`b = 0`.
- :func:`neighbour_min` / :func:`neighbour_max`: min / max aggregation over the
  in-neighbours (:func:`graphbias.ops.spmm` for node messages,
  :func:`graphbias.ops.segment_csr` for edge messages).
- :func:`graph_min` / :func:`graph_max`: the same over all nodes of each graph
  of a batch (a virtual node connected to every node), broadcast back.

The compiled layers keep every quantity that must be exact either an integer
(ids, flags, times: exact in float64 below :math:`2^{53}`) or a distance that
enters sums only beside terms that are exactly 0 when the result is used, so no
rounding differs from the reference's single ``d[u] + w`` addition.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from .. import ops
from ..ops.csr import CSR

__all__ = ["BIG", "Affine", "step", "select", "neighbour_min", "neighbour_max",
           "edge_min", "graph_min", "graph_max"]

BIG = 2.0 ** 50      # sentinel: larger than any id or distance the networks handle


class Affine(torch.nn.Module):
    """``y = W [x_1, ..., x_k] + b`` over the named channels ``inputs``."""

    def __init__(self, inputs: Sequence[str], weight: Sequence[Sequence[float]],
                 bias: Sequence[float]) -> None:
        super().__init__()
        self.inputs = tuple(inputs)
        w = torch.tensor(weight, dtype=torch.float64)
        b = torch.tensor(bias, dtype=torch.float64)
        if w.dim() != 2 or w.size(1) != len(self.inputs) or b.shape != (w.size(0),):
            raise ValueError(f"Affine over {self.inputs}: weight {tuple(w.shape)} and "
                             f"bias {tuple(b.shape)} do not match")
        self.weight = torch.nn.Parameter(w, requires_grad=False)
        self.bias = torch.nn.Parameter(b, requires_grad=False)

    def forward(self, **channels: Tensor) -> Tensor:
        """``[M]`` for one output row, else ``[M, out]``."""
        x = torch.stack([channels[k] for k in self.inputs], -1)
        y = x @ self.weight.T + self.bias
        return y.squeeze(-1) if y.size(-1) == 1 else y

    def extra_repr(self) -> str:
        return f"inputs={self.inputs}, out={self.weight.size(0)}"


def step(x: Tensor) -> Tensor:
    """Heaviside step ``[x >= 0]`` as float (``NaN`` gives 0)."""
    return (x >= 0).to(x.dtype)


def select(g: Tensor, a: Tensor, b: Tensor, margin: float = 4 * BIG) -> Tensor:
    """``a`` where the flag ``g`` is 1, ``b`` where it is 0, with two ReLUs."""
    off = margin * (g - 1.0)                  # exactly 0 or -margin
    return b + torch.relu((a - b) + off) - torch.relu((b - a) + off)


def _fill_empty(out: Tensor, csr: CSR, empty: float) -> Tensor:
    deg = csr.degree().view((-1,) + (1,) * (out.dim() - 1))
    return torch.where(deg > 0, out, torch.full_like(out, empty))


def neighbour_min(csr: CSR, x: Tensor, empty: float = BIG) -> Tensor:
    """``out[v] = min`` of ``x[u]`` over in-neighbours ``u`` (``empty`` if none)."""
    return _fill_empty(ops.spmm(csr, x, "min"), csr, empty)


def neighbour_max(csr: CSR, x: Tensor, empty: float = 0.0) -> Tensor:
    """``out[v] = max`` of ``x[u]`` over in-neighbours ``u`` (``empty`` if none)."""
    return _fill_empty(ops.spmm(csr, x, "max"), csr, empty)


def edge_min(csr: CSR, msg: Tensor, empty: float = BIG) -> Tensor:
    """Min of per-edge messages (in CSR order) into each receiving node."""
    return _fill_empty(ops.segment_csr(msg, csr.indptr, "min"), csr, empty)


def graph_min(x: Tensor, ptr: Tensor, batch: Tensor) -> Tensor:
    """Min of ``x`` over the nodes of each graph, broadcast to its nodes."""
    return ops.segment_csr(x, ptr, "min").index_select(0, batch)


def graph_max(x: Tensor, ptr: Tensor, batch: Tensor) -> Tensor:
    """Max of ``x`` over the nodes of each graph, broadcast to its nodes."""
    return ops.segment_csr(x, ptr, "max").index_select(0, batch)
