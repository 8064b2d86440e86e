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

from . import reference
from ._checks import (check_float, check_index, check_indptr, check_reduce,
                      check_same_device)
from .csr import CSR
from .sparse_mm import SUPPORTED_DTYPES, spmm_sum

__all__ = ["CSR", "backend", "scatter", "segment_csr", "spmm", "softmax_csr",
           "reference"]

_BACKENDS = ("auto", "torch")

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")


def backend() -> str:
    """Name of the implementation the ops run on: ``"torch"`` (pure PyTorch)."""
    requested = os.environ.get("GRAPHBIAS_BACKEND", "auto").lower()
    if requested not in _BACKENDS:
        raise ValueError(
            f"GRAPHBIAS_BACKEND must be one of {_BACKENDS}, got {requested!r}")
    return "torch"


def scatter(src: Tensor, index: Tensor, dim_size: Optional[int] = None,
            reduce: str = "sum", dim: int = 0) -> Tensor:
    r"""Reduces ``src`` into ``dim_size`` slots along ``dim`` by ``index``.

    .. math:: \mathrm{out}_i = \bigoplus_{k:\, \mathrm{index}_k = i} \mathrm{src}_k

    with :math:`\oplus` one of sum, mean, max, min; empty slots are 0.
    """
    check_float("src", src)
    check_reduce(reduce)
    if src.dim() == 0:
        raise ValueError("src must have at least one dimension")
    dim = dim % src.dim()
    index = check_index("index", index, dim_size)
    check_same_device(src=src, index=index)
    if index.numel() != src.size(dim):
        raise ValueError(
            f"index has {index.numel()} entries but src has {src.size(dim)} along dim {dim}")
    if dim_size is None:
        dim_size = int(index.max()) + 1 if index.numel() else 0
    return reference.scatter(src, index, dim_size, reduce, dim)


def segment_csr(src: Tensor, indptr: Tensor, reduce: str = "sum") -> Tensor:
    r"""Reduces consecutive segments of ``src`` (dim 0) delimited by ``indptr``."""
    check_float("src", src)
    check_reduce(reduce)
    check_same_device(src=src, indptr=indptr if isinstance(indptr, Tensor) else None)
    indptr = check_indptr(indptr, src.size(0))
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
    return reference.softmax_csr(src, csr)
