r"""Weighted sum / mean SpMM on torch's CSR kernel with a cached-transpose backward.

``torch.sparse.mm`` differentiates through a generic sparse path whose backward is
about ten times its forward; here the backward is one more CSR product with the
transpose that :class:`~graphbias.ops.CSR` builds once and keeps.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from .csr import CSR

SUPPORTED_DTYPES = (torch.float32, torch.float64)


def _ones(csr: CSR, dtype: torch.dtype) -> Tensor:
    key = ("ones", dtype)
    ones = csr._shared.get(key)
    if ones is None:
        ones = torch.ones(csr.nnz, dtype=dtype, device=csr.device)
        csr._shared[key] = ones
    return ones


def _mm(indptr: Tensor, indices: Tensor, values: Tensor, shape: tuple[int, int],
        x: Tensor) -> Tensor:
    """``A @ x`` for ``x`` of shape [cols, F] (F may be 0) or per-head values."""
    if values.dim() == 2:  # one weight per head: x is [cols, H, C]
        heads = [_mm(indptr, indices, values[:, h].contiguous(), shape, x[:, h])
                 for h in range(values.size(1))]
        return torch.stack(heads, dim=1)
    flat = x.reshape(x.size(0), -1)
    if flat.size(1) == 0 or indices.numel() == 0:
        out = flat.new_zeros(shape[0], flat.size(1))
    else:
        a = torch.sparse_csr_tensor(indptr, indices, values, shape,
                                    check_invariants=False)
        out = torch.sparse.mm(a, flat.contiguous())
    return out.view((shape[0],) + x.shape[1:])


class _SpMMSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, values: Optional[Tensor], x: Tensor, csr: CSR) -> Tensor:
        vals = _ones(csr, x.dtype) if values is None else values
        ctx.csr = csr
        ctx.save_for_backward(vals, x)
        ctx.weighted = values is not None
        return _mm(csr.indptr, csr.indices, vals, csr.shape, x)

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        csr: CSR = ctx.csr
        vals, x = ctx.saved_tensors
        grad_values = grad_x = None
        if ctx.needs_input_grad[1]:
            t_indptr, t_indices, pos = csr.transpose_structure()
            grad_x = _mm(t_indptr, t_indices, vals[pos], (csr.num_cols, csr.num_rows),
                         grad_out)
        if ctx.weighted and ctx.needs_input_grad[0]:
            g = grad_out.index_select(0, csr.row()) * x.index_select(0, csr.indices)
            grad_values = g.reshape(g.size(0), vals.size(1) if vals.dim() == 2 else 1,
                                    -1).sum(-1).view(vals.shape)
        return grad_values, grad_x, None


def spmm_sum(csr: CSR, x: Tensor) -> Tensor:
    return _SpMMSum.apply(csr.values, x, csr)
