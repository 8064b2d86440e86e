r"""Message-passing primitives: scatter, segment reduction and fused SpMM.

Every op checks its arguments here, in the front end, then runs on the selected
backend; ``backend()`` names it and ``GRAPHBIAS_BACKEND=torch`` forces the pure
PyTorch one. :mod:`graphbias.ops.reference` holds the plain gather / scatter
definitions that every faster path (including the CSR product used for sum and
mean here) is tested against.

>>> import torch
>>> from graphbias import ops
>>> src = torch.tensor([1., 5., 2., 4.])
>>> ops.scatter(src, torch.tensor([0, 0, 2, 2]), dim_size=3, reduce="max")
tensor([5., 0., 4.])
>>> ops.segment_csr(src, torch.tensor([0, 1, 4]), reduce="sum")
tensor([ 1., 11.])
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Optional

import torch
from torch import Tensor

from . import _compiled, reference
from ._checks import (check_float, check_index, check_indptr, check_reduce,
                      check_same_device)
from .csr import CSR
from .sparse_mm import SUPPORTED_DTYPES, spmm_sum

__all__ = ["CSR", "backend", "scatter", "segment_csr", "spmm", "softmax_csr",
           "reference"]

_BACKENDS = ("auto", "torch", "compiled")
_COMPILED_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")

if not _compiled.AVAILABLE and os.environ.get("GRAPHBIAS_BACKEND", "auto") != "torch":
    warnings.warn("graphbias: compiled kernels are not available "
                  f"({_compiled.LOAD_ERROR}); using the pure-torch path. Reinstall "
                  "with a C++ compiler and `pip install --no-build-isolation` to build them.",
                  RuntimeWarning, stacklevel=2)


def backend() -> str:
    """``"compiled"`` (the kernels of ``cuda_ext/``) or ``"torch"`` (pure PyTorch).

    ``GRAPHBIAS_BACKEND=torch`` forces the pure-torch path; ``=compiled`` requires
    the kernels and raises if they were not built.
    """
    requested = os.environ.get("GRAPHBIAS_BACKEND", "auto").lower()
    if requested not in _BACKENDS:
        raise ValueError(
            f"GRAPHBIAS_BACKEND must be one of {_BACKENDS}, got {requested!r}")
    if requested == "torch":
        return "torch"
    if not _compiled.AVAILABLE:
        if requested == "compiled":
            raise RuntimeError("GRAPHBIAS_BACKEND=compiled but graphbias._C is not "
                               f"built: {_compiled.LOAD_ERROR}")
        return "torch"
    return "compiled"


def _use_compiled(t: Tensor) -> bool:
    return t.dtype in _COMPILED_DTYPES and backend() == "compiled"


def scatter(src: Tensor, index: Tensor, dim_size: Optional[int] = None,
            reduce: str = "sum", dim: int = 0, deterministic: bool = True) -> Tensor:
    r"""Reduces ``src`` into ``dim_size`` slots along ``dim`` by ``index``.

    .. math:: \mathrm{out}_i = \bigoplus_{k:\, \mathrm{index}_k = i} \mathrm{src}_k

    with :math:`\oplus` one of sum, mean, max, min; empty slots are 0. On the
    compiled backend an unsorted index is sorted once and the segments reduced in
    order (deterministic); on CUDA, ``deterministic=False`` uses atomic adds instead
    (faster, but the order of floating-point additions varies between runs).
    """
    check_float("src", src)
    check_reduce(reduce)
    if src.dim() == 0:
        raise ValueError("src must have at least one dimension")
    dim = dim % src.dim()
    check_same_device(src=src, index=index if isinstance(index, Tensor) else None)
    index = check_index("index", index, dim_size)
    if index.numel() != src.size(dim):
        raise ValueError(
            f"index has {index.numel()} entries but src has {src.size(dim)} along dim {dim}")
    if dim_size is None:
        dim_size = int(index.max()) + 1 if index.numel() else 0
    if not _use_compiled(src):
        return reference.scatter(src, index, dim_size, reduce, dim)
    moved = src.movedim(dim, 0)
    if not deterministic and src.is_cuda:
        out = torch.ops.graphbias._scatter_coo_atomic(moved.contiguous(), index, dim_size,
                                                     reduce)
        return out.movedim(0, dim)
    if index.numel() > 1 and not bool((index[1:] >= index[:-1]).all()):
        perm = torch.argsort(index, stable=True)
        index, moved = index[perm], moved.index_select(0, perm)
    indptr = torch.zeros(dim_size + 1, dtype=torch.long, device=index.device)
    torch.cumsum(torch.bincount(index, minlength=dim_size), 0, out=indptr[1:])
    return torch.ops.graphbias.segment_csr(moved, indptr, reduce).movedim(0, dim)


def segment_csr(src: Tensor, indptr: Tensor, reduce: str = "sum") -> Tensor:
    r"""Reduces consecutive segments of ``src`` (dim 0) delimited by ``indptr``."""
    check_float("src", src)
    check_reduce(reduce)
    check_same_device(src=src, indptr=indptr if isinstance(indptr, Tensor) else None)
    indptr = check_indptr(indptr, src.size(0))
    if _use_compiled(src):
        return torch.ops.graphbias.segment_csr(src, indptr, reduce)
    return reference.segment_csr(src, indptr, reduce)


def _as_csr(a: Any) -> CSR:
    if isinstance(a, CSR):
        return a
    csr = getattr(a, "csr", None)
    if isinstance(csr, CSR):
        return csr
    raise ValueError(
        f"spmm expects a graphbias.ops.CSR or a Graph, got {type(a).__name__}")


def spmm(a: Any, x: Tensor, reduce: str = "sum") -> Tensor:
    r"""Fused gather + reduce: :math:`\mathrm{out}_i = \bigoplus_{j \in \mathcal{N}(i)} a_{ij} x_j`.

    ``a`` is a :class:`CSR` (rows are the receiving nodes) or a
    :class:`~graphbias.data.Graph`, whose cached in-neighbour CSR is used. For a
    graph, ``out[v]`` aggregates the sources of the edges that end at ``v``.
    Values of shape ``[nnz, H]`` weight head ``h`` of ``x`` of shape ``[N, H, C]``.
    The backward for ``x`` multiplies by the transpose cached on the CSR.
    """
    csr = _as_csr(a)
    check_float("x", x)
    check_reduce(reduce)
    check_same_device(indptr=csr.indptr, x=x, values=csr.values)
    if x.dim() == 0 or x.size(0) != csr.num_cols:
        raise ValueError(
            f"x has {x.size(0) if x.dim() else 0} rows but the matrix has "
            f"{csr.num_cols} columns")
    if csr.values is not None and csr.values.dtype != x.dtype:
        raise ValueError(f"values are {csr.values.dtype} but x is {x.dtype}")
    csr.validate()
    if _use_compiled(x):
        values = csr.values
        if values is not None and values.dim() == 2 and (
                x.dim() != 3 or x.size(1) != values.size(1)):
            raise ValueError(f"values of shape {tuple(values.shape)} need x of shape "
                             f"[N, {values.size(1)}, C], got {tuple(x.shape)}")
        t_indptr = t_indices = pos = None
        if x.requires_grad and torch.is_grad_enabled():
            t_indptr, t_indices, pos = csr.transpose_structure()
        flat = x.reshape(x.size(0), -1)
        out = torch.ops.graphbias.spmm(csr.indptr, csr.indices, values, flat, reduce,
                                       t_indptr, t_indices, pos)
        return out.view((csr.num_rows,) + x.shape[1:])
    if reduce in ("sum", "mean") and x.dtype in SUPPORTED_DTYPES:
        out = spmm_sum(csr, x)
        if reduce == "mean":
            deg = csr.degree().clamp(min=1).to(x.dtype)
            out = out / deg.view((-1,) + (1,) * (out.dim() - 1))
        return out
    return reference.spmm(csr, x, reduce)


def softmax_csr(src: Tensor, a: Any) -> Tensor:
    """Softmax of per-entry scores (in CSR order) within each row of ``a``."""
    csr = _as_csr(a)
    check_float("src", src)
    if src.size(0) != csr.nnz:
        raise ValueError(f"src has {src.size(0)} entries, the CSR has {csr.nnz}")
    row = csr.row()
    peak = segment_csr(src.detach(), csr.indptr, "max")
    e = (src - peak.index_select(0, row)).exp()
    total = segment_csr(e, csr.indptr, "sum")
    return e / total.index_select(0, row).clamp_min(1e-16)
