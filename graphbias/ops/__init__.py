r"""Message-passing primitives: scatter, segment reduction and fused SpMM, and the
frontier bookkeeping of algorithms that touch only a changing part of a graph
(:mod:`graphbias.ops.frontier`: ``csr_rows``, ``reached``).

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

from . import _balanced, _compiled, reference
from ._compiled import backend
from .._validation import Boolean, check_scalar
from ._checks import (check_dim, check_dim_size, check_float, check_index, check_indptr,
                      check_reduce, check_same_device, check_tensor)
from .csr import CSR
from .frontier import csr_rows, reached
from .sparse_mm import SUPPORTED_DTYPES, spmm_sum

__all__ = ["CSR", "backend", "scatter", "segment_csr", "spmm", "masked_spmm", "softmax_csr",
           "csr_rows", "reached", "reference"]

_COMPILED_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")

if not _compiled.AVAILABLE and os.environ.get("GRAPHBIAS_BACKEND", "auto") != "torch":
    warnings.warn("graphbias: compiled kernels are not available "
                  f"({_compiled.LOAD_ERROR}); using the pure-torch path. Reinstall "
                  "with a C++ compiler and `pip install --no-build-isolation` to build them.",
                  RuntimeWarning, stacklevel=2)


def _use_compiled(t: Tensor) -> bool:
    """Kernels exist for ``t``'s dtype and device (CUDA ones only when built with
    nvcc) and the compiled backend is selected."""
    return t.dtype in _COMPILED_DTYPES and _compiled.kernels_for(t.device.type)


def scatter(src: Tensor, index: Tensor, dim_size: Optional[int] = None,
            reduce: str = "sum", dim: int = 0, deterministic: bool = True) -> Tensor:
    r"""Reduces ``src`` into ``dim_size`` slots along ``dim`` by ``index``.

    .. math:: \mathrm{out}_i = \bigoplus_{k:\, \mathrm{index}_k = i} \mathrm{src}_k

    with :math:`\oplus` one of sum, mean, max, min; empty slots are 0. Max and min
    propagate NaN (a slot that receives a NaN is NaN), as ``torch.amax`` does; their
    gradient goes to the entry that produced each output (the first NaN, else the
    first entry reaching the extremum).

    Parameters
    ----------
    src : Tensor
        Floating-point input with at least one dimension.
    index : Tensor
        ``int64`` (or ``int32``) slot of each entry of ``src`` along ``dim``, in any
        order; ``index.numel() == src.size(dim)``.
    dim_size : int, optional
        Number of slots; default ``index.max() + 1`` (0 for an empty index).
    reduce : {"sum", "mean", "max", "min"}, default="sum"
        The reduction.
    dim : int, default=0
        Axis of ``src`` to reduce, in ``[-src.dim(), src.dim())``.
    deterministic : bool, default=True
        On the compiled backend an unsorted index is sorted once and the segments
        reduced in order (the same bits every run). On CUDA, ``False`` uses atomic
        adds instead: faster, but the order of floating-point additions, and with
        it the last bits of sum and mean, varies between runs.

    Returns
    -------
    Tensor
        ``src``'s shape with ``dim`` of size ``dim_size``.

    Raises
    ------
    ValueError
        Before any kernel runs, naming the argument: a non-float, 0-d or meta
        ``src``; ``index`` not 1-D integer, of the wrong length, negative or
        ``>= dim_size``; ``dim`` out of range; a negative ``dim_size``; tensors on
        different devices; an unknown ``reduce``.

    Examples
    --------
    >>> import torch
    >>> scatter(torch.tensor([1., 5., 2., 4.]), torch.tensor([0, 0, 2, 2]), 3, "max")
    tensor([5., 0., 4.])
    >>> scatter(torch.tensor([1., float("nan"), 2.]), torch.tensor([0, 0, 1]), 2, "max")
    tensor([nan, 2.])
    """
    src = check_float("src", src)
    check_reduce(reduce)
    dim = check_dim(dim, src.dim())
    dim_size = check_dim_size(dim_size)
    deterministic = check_scalar("deterministic", deterministic, Boolean())
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
    return _compiled_segment_csr(moved, indptr, reduce).movedim(0, dim)


def _compiled_segment_csr(src: Tensor, indptr: Tensor, reduce: str) -> Tensor:
    """The compiled segment reduction; on CUDA, long segments are split over several
    groups of lanes (:mod:`graphbias.ops._balanced`)."""
    if _balanced.enabled(src):
        out = _balanced.segment_csr(src, indptr, reduce)
        if out is not None:
            return out
    return torch.ops.graphbias.segment_csr(src, indptr, reduce)


def segment_csr(src: Tensor, indptr: Tensor, reduce: str = "sum") -> Tensor:
    r"""Reduces consecutive segments of ``src`` along dim 0.

    .. math:: \mathrm{out}_i = \bigoplus_{e = \mathrm{indptr}_i}^{\mathrm{indptr}_{i+1} - 1}
        \mathrm{src}_e

    Empty segments give 0; max and min propagate NaN, as in :func:`scatter`.

    Parameters
    ----------
    src : Tensor
        Floating-point input ``[E, ...]`` with at least one dimension.
    indptr : Tensor
        ``int64`` (or ``int32``) non-decreasing ``[S + 1]`` bounds, from 0 to ``E``.
    reduce : {"sum", "mean", "max", "min"}, default="sum"
        The reduction.

    Returns
    -------
    Tensor
        ``[S, ...]``.

    Raises
    ------
    ValueError
        Before any kernel runs, naming the argument: a non-float, 0-d or meta
        ``src``; ``indptr`` not 1-D integer, not starting at 0, not ending at ``E``,
        decreasing (with the position); tensors on different devices.

    Examples
    --------
    >>> import torch
    >>> segment_csr(torch.tensor([1., 5., 2., 4.]), torch.tensor([0, 1, 1, 4]), "sum")
    tensor([ 1.,  0., 11.])
    """
    src = check_float("src", src)
    check_reduce(reduce)
    check_same_device(src=src, indptr=indptr if isinstance(indptr, Tensor) else None)
    indptr = check_indptr(indptr, src.size(0))
    if _use_compiled(src):
        return _compiled_segment_csr(src, indptr, reduce)
    return reference.segment_csr(src, indptr, reduce)


def _as_csr(a: Any) -> CSR:
    if isinstance(a, CSR):
        return a
    csr = getattr(a, "csr", None)
    if isinstance(csr, CSR):
        return csr
    raise ValueError(
        f"spmm expects a graphbias.ops.CSR or a Graph, got {type(a).__name__}")


def _check_spmm(csr: CSR, x: Tensor) -> None:
    """Device, dtype and shape agreement of a matrix and the dense operand ``x``."""
    values = csr.values
    check_same_device(indptr=csr.indptr, indices=csr.indices, values=values, x=x)
    if x.size(0) != csr.num_cols:
        raise ValueError(f"x has {x.size(0)} rows but the matrix has {csr.num_cols} columns")
    if values is None:
        return
    if values.dtype != x.dtype:
        raise ValueError(f"values are {values.dtype} but x is {x.dtype}")
    if values.dim() not in (1, 2):
        raise ValueError(f"values must be [nnz] or [nnz, H], got shape {tuple(values.shape)}")
    if values.dim() == 2 and (x.dim() != 3 or x.size(1) != values.size(1)):
        raise ValueError(f"values of shape {tuple(values.shape)} need x of shape "
                         f"[N, {values.size(1)}, C], got {tuple(x.shape)}")


def spmm(a: Any, x: Tensor, reduce: str = "sum") -> Tensor:
    r"""Fused gather + reduce: :math:`\mathrm{out}_i = \bigoplus_{j \in \mathcal{N}(i)} a_{ij} x_j`.

    Rows of the matrix are the receiving nodes: for a graph, ``out[v]`` aggregates
    the sources of the edges that end at ``v``. Empty rows give 0; max and min
    propagate NaN (the gradient goes to the entry that produced each output). The
    backward for ``x`` multiplies by the transpose cached on the CSR. On CUDA, rows
    with many more entries than the mean (the hubs of a power-law graph) are split
    into pieces reduced by separate groups of lanes and combined in a fixed order
    (:mod:`graphbias.ops._balanced`): still deterministic, max / min exact, sum / mean
    rounded per piece.

    Parameters
    ----------
    a : CSR or Graph
        The matrix, ``[R, N]``; a :class:`~graphbias.data.Graph` gives its cached
        in-neighbour CSR. Its structure is checked before the first product and
        again whenever ``indptr`` or ``indices`` changed in place since.
    x : Tensor
        Floating-point ``[N, ...]``. Values of shape ``[nnz, H]`` weight head
        ``h`` of ``x`` of shape ``[N, H, C]``.
    reduce : {"sum", "mean", "max", "min"}, default="sum"
        The reduction over each row.

    Returns
    -------
    Tensor
        ``[R, ...]``.

    Raises
    ------
    ValueError
        Before any kernel runs: ``a`` not a CSR or Graph; a non-float, 0-d or meta
        ``x``; ``x`` rows not the matrix's columns; values of another dtype or
        shape; tensors on different devices; a malformed CSR (column ids out of
        range, unsorted ``indptr``, ...).

    Examples
    --------
    >>> import torch
    >>> a = CSR(torch.tensor([0, 2, 2]), torch.tensor([0, 1]), (2, 2))
    >>> spmm(a, torch.tensor([[1.], [3.]]), "mean")
    tensor([[2.],
            [0.]])
    """
    csr = _as_csr(a)
    x = check_float("x", x)
    check_reduce(reduce)
    _check_spmm(csr, x)
    csr.validate()
    if _use_compiled(x):
        t_indptr = t_indices = pos = None
        if x.requires_grad and torch.is_grad_enabled():
            t_indptr, t_indices, pos = csr.transpose_structure()
        flat = x if x.dim() == 2 else x.reshape(x.size(0), -1)
        out = None
        if _balanced.enabled(x):  # CUDA: long rows split over several groups of lanes
            transpose = None if t_indptr is None else (t_indptr, t_indices, pos)
            out = _balanced.spmm(csr.indptr, csr.indices, csr.values, flat.contiguous(),
                                 reduce, transpose)
        if out is None:
            out = torch.ops.graphbias.spmm(csr.indptr, csr.indices, csr.values, flat, reduce,
                                           t_indptr, t_indices, pos)
        return out if x.dim() == 2 else out.view((csr.num_rows,) + x.shape[1:])
    if reduce in ("sum", "mean") and x.dtype in SUPPORTED_DTYPES:
        out = spmm_sum(csr, x)
        if reduce == "mean":
            deg = csr.degree().clamp(min=1).to(x.dtype)
            out = out / deg.view((-1,) + (1,) * (out.dim() - 1))
        return out
    return reference.spmm(csr, x, reduce)


def masked_spmm(a: Any, x: Tensor, words: Tensor, scale: float = 1.0) -> Tensor:
    r"""Products of a matrix with ``S`` bit-masked copies of ``x``:

    .. math:: \mathrm{out}_{s,i,f} = \mathrm{scale} \sum_{j \in \mathcal{N}(i)}
        a_{ij}\, b_{s,j,f}\, x_{j,f},

    with :math:`b_{s,j,f}` bit ``f % 64`` of ``words[s, j, f // 64]``. Fair random
    words and ``scale = 2`` give the first product of ``S`` dropout samples (p = 1/2)
    of a layer that propagates before its weights, :math:`\hat A\,\mathrm{drop}(X)`.
    On the CPU one kernel computes them without writing the masked copies: each
    sample reads ``x``, which stays in cache, and one bit per entry
    (``cuda_ext/cpu/masked_spmm_cpu.cpp``). Other devices, a gradient through
    ``x`` and the pure-torch backend unpack the masks and call :func:`spmm` per
    sample (:func:`graphbias.ops.reference.masked_spmm` is the definition both are
    tested against).

    Parameters
    ----------
    a : CSR or Graph
        The matrix, ``[R, N]``, with no values or one per entry.
    x : Tensor
        Floating-point ``[N, F]``.
    words : Tensor
        int64 ``[S, N, ceil(F / 64)]``.
    scale : float, default=1.0

    Returns
    -------
    Tensor
        ``[S, R, F]``.

    Raises
    ------
    ValueError
        Before any kernel runs: the checks of :func:`spmm`, a ``x`` that is not 2-D,
        per-head values, or ``words`` of another dtype, shape or device.

    Examples
    --------
    >>> import torch
    >>> a = CSR(torch.tensor([0, 2]), torch.tensor([0, 1]), (1, 2))
    >>> x = torch.tensor([[1., 2.], [3., 4.]])
    >>> words = torch.tensor([[[0b01], [0b11]]])   # x[0, 1] dropped, the rest kept
    >>> masked_spmm(a, x, words)
    tensor([[[4., 4.]]])
    """
    csr = _as_csr(a)
    x = check_float("x", x)
    if x.dim() != 2:
        raise ValueError(f"masked_spmm needs a 2-D x, got shape {tuple(x.shape)}")
    _check_spmm(csr, x)
    if csr.values is not None and csr.values.dim() != 1:
        raise ValueError("masked_spmm takes one value per entry, not per head")
    words = check_tensor("words", words)
    check_same_device(words=words, x=x)
    shape = (x.size(0), -(-x.size(1) // 64))
    if words.dtype != torch.int64 or words.dim() != 3 or tuple(words.shape[1:]) != shape:
        raise ValueError(f"words must be int64 of shape [S, {shape[0]}, {shape[1]}], got "
                         f"{words.dtype} of shape {tuple(words.shape)}")
    csr.validate()
    if _compiled.cpu_kernel(x) and x.dtype in (torch.float32, torch.float64) and \
            not (x.requires_grad and torch.is_grad_enabled()):
        return torch.ops.graphbias.masked_spmm(csr.indptr, csr.indices, csr.values,
                                               x.contiguous(), words, float(scale))
    masks = reference.unpack_bits(words, x.size(1)).to(x.dtype)
    return torch.stack([spmm(csr, m * x) for m in masks]) * scale


def softmax_csr(src: Tensor, a: Any) -> Tensor:
    r"""Softmax of per-entry scores within each row of a CSR.

    .. math:: \alpha_e = \exp(s_e - m_i) \Big/ \sum_{e' \in \mathrm{row}\ i}
        \exp(s_{e'} - m_i), \qquad m_i = \max_{e' \in \mathrm{row}\ i} s_{e'}

    Parameters
    ----------
    src : Tensor
        Floating-point scores ``[nnz, ...]`` in CSR order.
    a : CSR or Graph
        The rows to normalise within.

    Returns
    -------
    Tensor
        ``[nnz, ...]``; each row's entries sum to one.

    Raises
    ------
    ValueError
        If ``src`` is not a real floating-point tensor with one entry per stored
        element, or lies on another device.

    Examples
    --------
    >>> import torch
    >>> a = CSR(torch.tensor([0, 2, 3]), torch.tensor([0, 1, 1]), (2, 2))
    >>> softmax_csr(torch.tensor([0., 0., 5.]), a)
    tensor([0.5000, 0.5000, 1.0000])
    """
    csr = _as_csr(a)
    src = check_float("src", src)
    check_same_device(src=src, indptr=csr.indptr)
    if src.size(0) != csr.nnz:
        raise ValueError(f"src has {src.size(0)} entries, the CSR has {csr.nnz}")
    row = csr.row()
    peak = segment_csr(src.detach(), csr.indptr, "max")
    e = (src - peak.index_select(0, row)).exp()
    total = segment_csr(e, csr.indptr, "sum")
    return e / total.index_select(0, row).clamp_min(1e-16)
