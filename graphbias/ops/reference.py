r"""Pure-torch reference implementations of the message-passing primitives.

These are the definitions every faster path is tested against. Empty output rows
are 0 for every reduction (the convention of PyG and torch-scatter).
"""
from __future__ import annotations

import torch
from torch import Tensor

from ._checks import check_dim
from .csr import CSR

_AMAX = {"max": "amax", "min": "amin"}


def _broadcast(index: Tensor, src: Tensor, dim: int) -> Tensor:
    shape = [1] * src.dim()
    shape[dim] = -1
    return index.view(shape).expand_as(src)


def scatter(src: Tensor, index: Tensor, dim_size: int, reduce: str = "sum",
            dim: int = 0) -> Tensor:
    r"""``out[..., i, ...] = reduce_{k : index[k] = i} src[..., k, ...]`` along ``dim``.

    Max and min propagate NaN (``torch.amax`` semantics); their gradient is split
    evenly between tied entries, and is NaN over a segment holding a NaN.
    """
    dim = check_dim(dim, src.dim())
    shape = list(src.shape)
    shape[dim] = dim_size
    out = src.new_zeros(shape)
    if reduce in ("sum", "mean"):
        out = out.index_add(dim, index, src)
        if reduce == "mean":
            count = torch.bincount(index, minlength=dim_size).clamp_(min=1)
            view = [1] * src.dim()
            view[dim] = -1
            out = out / count.view(view).to(src.dtype)
        return out
    return out.scatter_reduce(dim, _broadcast(index, src, dim), src,
                              reduce=_AMAX[reduce], include_self=False)


def segment_csr(src: Tensor, indptr: Tensor, reduce: str = "sum") -> Tensor:
    r"""``out[i] = reduce(src[indptr[i]:indptr[i+1]])`` along dim 0."""
    counts = indptr[1:] - indptr[:-1]
    index = torch.repeat_interleave(
        torch.arange(counts.numel(), device=src.device), counts)
    return scatter(src, index, counts.numel(), reduce, dim=0)


def spmm(csr: CSR, x: Tensor, reduce: str = "sum") -> Tensor:
    r"""``out[i] = reduce_{j \in row i} a_{ij} x_j`` by explicit gather then scatter.

    ``x`` is ``[num_cols, ...]``; values of shape ``[nnz]`` scale whole rows,
    values of shape ``[nnz, H]`` scale head ``h`` of ``x`` of shape ``[num_cols, H, C]``.
    """
    msg = x.index_select(0, csr.indices)
    if csr.values is not None:
        v = csr.values
        msg = msg * v.view(v.shape + (1,) * (msg.dim() - v.dim()))
    return scatter(msg, csr.row(), csr.num_rows, reduce, dim=0)


def unpack_bits(words: Tensor, width: int) -> Tensor:
    r"""The bits of int64 ``words`` ``[..., W]`` as 0 / 1 entries ``[..., width]``:
    entry ``f`` is bit ``f mod 64`` of word ``f // 64`` (``width <= 64 W``)."""
    shifts = torch.arange(64, device=words.device)
    return ((words.unsqueeze(-1) >> shifts) & 1).flatten(-2)[..., :width]


def masked_spmm(csr: CSR, x: Tensor, words: Tensor, scale: float = 1.0) -> Tensor:
    r"""``out[s, i] = scale * sum_{j in row i} a_ij (b_s[j] * x[j])``, the masks
    ``b_s = unpack_bits(words[s])`` written out, one product per sample."""
    masks = unpack_bits(words, x.size(1)).to(x.dtype)
    return torch.stack([spmm(csr, m * x) for m in masks]) * scale
