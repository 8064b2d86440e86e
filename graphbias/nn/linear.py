"""A ``torch.nn.Linear`` that also multiplies sparse feature matrices."""
from __future__ import annotations

import torch
from torch import Tensor

from .functional import Features, linear


class Linear(torch.nn.Linear):
    r""":math:`y = x W^\top + b` for dense ``x`` or a sparse :class:`~graphbias.ops.CSR`
    (see :func:`graphbias.nn.functional.linear`)."""

    def forward(self, x: Features) -> Tensor:  # type: ignore[override]
        return linear(x, self.weight, self.bias)
