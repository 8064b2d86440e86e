r"""Hub-balanced execution of the CUDA kernels: long rows split into pieces.

The CUDA kernels give each CSR row to one group of lanes, so on a power-law graph
the group of a hub row walks thousands of entries while the rest of the GPU idles.
A :class:`SplitPlan` bounds that work: every row with more than ``chunk`` entries
is cut into consecutive pieces of at most ``chunk`` entries,

.. math:: \text{piece } k \text{ of row } r = \bigl[\mathrm{indptr}_r + k c,\;
    \min(\mathrm{indptr}_r + (k + 1) c,\ \mathrm{indptr}_{r+1})\bigr),
    \qquad k = 0, \dots, \lceil d_r / c \rceil - 1,

with :math:`c` the chunk and :math:`d_r` the row's entry count. The kernels then run
in up to three passes: one group per short row (as before), one group per piece
(its partial reduction goes to a buffer), and one group per split row folding its
pieces' partials in piece order. Every output element is thus reduced in a fixed
order: the results are deterministic, max / min (and their arg) equal the
one-pass kernels exactly, sum / mean differ only by the rounding of the partial
sums.

The plan depends on the structure alone, so it is made once per ``indptr`` and
cached (keyed on the tensor's identity, address and version). ``plan_rows`` is pure
torch and runs on any device; the split kernels exist only in CUDA builds.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple, Optional

import torch
from torch import Tensor

from . import _compiled
from ._versions import StampedCache

__all__ = ["SplitPlan", "chunk_size", "plan_rows", "piece_bounds", "plan_for"]

#: the smallest chunk: a warp of lanes walks at least this many entries per piece
MIN_CHUNK = 32
#: rows up to this multiple of the mean entry count are never split, so a graph
#: without hubs (uniform degrees) keeps the one-pass kernels
MEAN_FACTOR = 4


class SplitPlan(NamedTuple):
    """Rows of a CSR split into pieces of at most ``chunk`` entries.

    Attributes
    ----------
    chunk : int
        Rows with more than ``chunk`` entries are split; the others are whole.
    split_row : Tensor
        ``int64 [S]``, the split rows in increasing order.
    split_ptr : Tensor
        ``int64 [S + 1]``, split row ``s`` owns pieces ``split_ptr[s]`` to
        ``split_ptr[s + 1] - 1``.
    piece_split : Tensor
        ``int64 [P]``, the split row (its position ``s`` in ``split_row``) of each
        piece; piece ``p`` is number ``p - split_ptr[s]`` of its row.
    """

    chunk: int
    split_row: Tensor
    split_ptr: Tensor
    piece_split: Tensor

    @property
    def num_pieces(self) -> int:
        return int(self.piece_split.numel())


def chunk_size(num_entries: int, num_rows: int, max_degree: int) -> int:
    r"""The piece length for a CSR: :math:`\max(32, \lceil 4 \bar d \rceil,
    \lceil \sqrt{d_{\max}} \rceil)`.

    At least a warp's worth of entries per piece; rows up to four times the mean
    never split (uniform graphs keep the one-pass kernels); and at least
    :math:`\sqrt{d_{\max}}`, so that the largest hub has no more pieces than a
    piece has entries and neither pass dominates the other.

    Parameters
    ----------
    num_entries : int
        Stored entries (nnz).
    num_rows : int
        Rows of the CSR.
    max_degree : int
        Entries of the longest row.

    Returns
    -------
    int
        The chunk, at least :data:`MIN_CHUNK`.

    Examples
    --------
    >>> chunk_size(10**6, 10**5, 25)      # uniform: nothing is split
    40
    >>> chunk_size(10**6, 10**5, 10**5)   # a hub of 100,000 entries: 317 pieces
    317
    """
    mean = num_entries / max(num_rows, 1)
    return max(MIN_CHUNK, math.ceil(MEAN_FACTOR * mean), math.isqrt(max(max_degree - 1, 0)) + 1)


def plan_rows(indptr: Tensor, chunk: Optional[int] = None) -> Optional[SplitPlan]:
    """Splits the rows of a CSR longer than ``chunk`` entries into pieces.

    Parameters
    ----------
    indptr : Tensor
        ``int64 [R + 1]`` non-decreasing row pointer from 0 (a validated CSR's).
    chunk : int, optional
        The longest piece; default :func:`chunk_size` of the row lengths.

    Returns
    -------
    SplitPlan or None
        ``None`` when no row is longer than ``chunk`` (the one-pass kernels are
        balanced already). The tensors lie on ``indptr``'s device.

    Raises
    ------
    ValueError
        If ``chunk`` is not a positive integer or ``indptr`` not a 1-D ``int64``
        tensor with at least one entry.

    Examples
    --------
    >>> import torch
    >>> plan = plan_rows(torch.tensor([0, 2, 9, 10]), chunk=3)
    >>> plan.split_row.tolist(), plan.split_ptr.tolist(), plan.piece_split.tolist()
    ([1], [0, 3], [0, 0, 0])
    """
    if not isinstance(indptr, Tensor) or indptr.dtype != torch.long or indptr.dim() != 1 \
            or indptr.numel() < 1:
        raise ValueError("indptr must be a 1-D int64 tensor with at least one entry")
    degree = indptr[1:] - indptr[:-1]
    if degree.numel() == 0:
        return None
    if chunk is None:
        chunk = chunk_size(int(indptr[-1]), degree.numel(), int(degree.max()))
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    split_row = (degree > chunk).nonzero().view(-1)
    if split_row.numel() == 0:
        return None
    pieces = (degree[split_row] + (chunk - 1)) // chunk
    split_ptr = torch.zeros(split_row.numel() + 1, dtype=torch.long, device=indptr.device)
    torch.cumsum(pieces, 0, out=split_ptr[1:])
    piece_split = torch.repeat_interleave(
        torch.arange(split_row.numel(), device=indptr.device), pieces)
    return SplitPlan(chunk, split_row, split_ptr, piece_split)


def piece_bounds(indptr: Tensor, plan: SplitPlan) -> tuple[Tensor, Tensor, Tensor]:
    """``(row, lo, hi)`` of every piece of ``plan``, the arithmetic of the kernels.

    Parameters
    ----------
    indptr : Tensor
        The row pointer the plan was made for.
    plan : SplitPlan
        Its plan.

    Returns
    -------
    row, lo, hi : Tensor
        ``int64 [P]`` each: piece ``p`` covers entries ``lo[p] .. hi[p] - 1`` of
        row ``row[p]``.

    Examples
    --------
    >>> import torch
    >>> ip = torch.tensor([0, 2, 9, 10])
    >>> [t.tolist() for t in piece_bounds(ip, plan_rows(ip, chunk=3))]
    [[1, 1, 1], [2, 5, 8], [5, 8, 9]]
    """
    s = plan.piece_split
    row = plan.split_row[s]
    k = torch.arange(s.numel(), device=s.device) - plan.split_ptr[s]
    lo = indptr[row] + k * plan.chunk
    hi = torch.minimum(lo + plan.chunk, indptr[row + 1])
    return row, lo, hi


# ------------------------------------------------------------------ caching
_MAX_PLANS = 16
_PLANS = StampedCache(_MAX_PLANS)


def plan_for(indptr: Tensor) -> Optional[SplitPlan]:
    """:func:`plan_rows` of ``indptr``, cached while the tensor is unchanged.

    The cache holds the last 16 row pointers seen, each with a stamp of its
    identity, storage address and version: a pointer changed in place, or a new
    tensor at a reused address, is planned again. Tensors without a version
    counter (made under ``torch.inference_mode``) are planned on every call.

    Parameters
    ----------
    indptr : Tensor
        A validated row pointer.

    Returns
    -------
    SplitPlan or None
        As :func:`plan_rows` with the default chunk.

    Examples
    --------
    >>> import torch
    >>> ip = torch.tensor([0] + [1000] + [1001] * 99)
    >>> plan_for(ip) is plan_for(ip)
    True
    """
    return _PLANS.get(id(indptr), (indptr,), lambda: plan_rows(indptr))


# --------------------------------------------------------------- the kernels
class SplitKernels(NamedTuple):
    """The split-plan kernels; each takes the plan's four fields after the
    arguments of its one-pass twin (``graphbias::_spmm_fw`` and so on)."""

    spmm_fw: Callable[..., tuple[Tensor, Tensor]]
    spmm_value_bw: Callable[..., Tensor]
    spmm_arg_bw: Callable[..., Tensor]
    segment_csr_fw: Callable[..., tuple[Tensor, Tensor]]
    gather_csr: Callable[..., Tensor]


def _registered() -> Optional[SplitKernels]:
    names = [name + "_split" for name in _compiled.SPLIT_OPS]
    if not _compiled.AVAILABLE or not all(hasattr(torch.ops.graphbias, n) for n in names):
        return None
    return SplitKernels(*(getattr(torch.ops.graphbias, n) for n in names))


#: the split kernels, ``None`` unless the extension was built with its CUDA kernels
KERNELS: Optional[SplitKernels] = _registered()
#: device types whose tensors run the split kernels
DEVICE_TYPES = frozenset({"cuda"}) if KERNELS is not None else frozenset()


def enabled(t: Tensor) -> bool:
    """Whether tensors like ``t`` run on the split kernels when a row is long."""
    return KERNELS is not None and t.device.type in DEVICE_TYPES


# ------------------------------------------------------------------ autograd
def _spmm_fw(indptr: Tensor, indices: Tensor, value: Optional[Tensor], x: Tensor, reduce: str,
             plan: Optional[SplitPlan]) -> tuple[Tensor, Tensor]:
    if plan is None:
        return torch.ops.graphbias._spmm_fw(indptr, indices, value, x, reduce)
    return KERNELS.spmm_fw(indptr, indices, value, x, reduce, *plan)


class _SplitSpMM(torch.autograd.Function):
    """``graphbias::spmm`` on the split kernels: the forward with the plan of the
    matrix's rows, the backward for ``x`` with the plan of its transpose's rows; the
    one-pass kernels where a plan is ``None``."""

    @staticmethod
    def forward(ctx, value: Optional[Tensor], x: Tensor, indptr: Tensor, indices: Tensor,
                reduce: str, plan: Optional[SplitPlan], transpose: Optional[tuple],
                t_plan: Optional[SplitPlan]) -> Tensor:
        out, arg = _spmm_fw(indptr, indices, value, x, reduce, plan)
        ctx.save_for_backward(value, x, arg)
        ctx.structure = (indptr, indices, reduce, plan, transpose, t_plan)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        value, x, arg = ctx.saved_tensors
        indptr, indices, reduce, plan, transpose, t_plan = ctx.structure
        grad = grad.contiguous()
        extreme = reduce in ("max", "min")
        grad_value = grad_x = None
        if ctx.needs_input_grad[0]:
            heads = value.size(1) if value.dim() == 2 else 0
            args = (indptr, indices, x, grad, arg if extreme else None, reduce, heads)
            grad_value = (torch.ops.graphbias._spmm_value_bw(*args) if plan is None
                          else KERNELS.spmm_value_bw(*args, *plan))
        if ctx.needs_input_grad[1]:
            t_indptr, t_indices, pos = transpose
            if extreme:
                args = (t_indptr, t_indices, pos, indices, value, arg, grad)
                grad_x = (torch.ops.graphbias._spmm_arg_bw(*args) if t_plan is None
                          else KERNELS.spmm_arg_bw(*args, *t_plan))
            else:
                if reduce == "mean":
                    deg = (indptr[1:] - indptr[:-1]).clamp_min(1).to(grad.dtype)
                    grad = grad / deg.unsqueeze(1)
                t_value = None if value is None else value.index_select(0, pos)
                grad_x = _spmm_fw(t_indptr, t_indices, t_value, grad, "sum", t_plan)[0]
        return grad_value, grad_x, None, None, None, None, None, None


def spmm(indptr: Tensor, indices: Tensor, value: Optional[Tensor], x: Tensor, reduce: str,
         transpose: Optional[tuple[Tensor, Tensor, Tensor]]) -> Optional[Tensor]:
    """``graphbias::spmm`` of a validated CSR on the split kernels.

    Parameters
    ----------
    indptr, indices : Tensor
        The CSR structure.
    value : Tensor or None
        ``[nnz]`` or ``[nnz, H]`` weights, or ``None`` for ones.
    x : Tensor
        ``[cols, F]`` contiguous operand.
    reduce : str
        ``"sum"``, ``"mean"``, ``"max"`` or ``"min"``.
    transpose : tuple of Tensor or None
        ``(indptr, indices, pos)`` of the transpose (for the backward of ``x``).

    Returns
    -------
    Tensor or None
        ``[rows, F]``; ``None`` when neither the rows nor (for a backward) the
        transpose's rows have a piece to split: the one-pass op is then the one to
        call.
    """
    plan = plan_for(indptr)
    t_plan = plan_for(transpose[0]) if transpose is not None else None
    if plan is None and t_plan is None:
        return None
    return _SplitSpMM.apply(value, x, indptr, indices, reduce, plan, transpose, t_plan)


class _SplitSegment(torch.autograd.Function):
    """``graphbias::segment_csr`` on the split kernels."""

    @staticmethod
    def forward(ctx, src: Tensor, indptr: Tensor, reduce: str, plan: SplitPlan) -> Tensor:
        out, arg = KERNELS.segment_csr_fw(src, indptr, reduce, *plan)
        ctx.save_for_backward(arg)
        ctx.structure = (indptr, reduce, plan, src.size(0))
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        (arg,) = ctx.saved_tensors
        indptr, reduce, plan, size = ctx.structure
        grad = grad.contiguous()
        if reduce in ("max", "min"):
            return torch.ops.graphbias._segment_arg_bw(grad, arg, size), None, None, None
        if reduce == "mean":
            count = (indptr[1:] - indptr[:-1]).clamp_min(1).to(grad.dtype)
            grad = grad / count.view((-1,) + (1,) * (grad.dim() - 1))
        return KERNELS.gather_csr(grad, indptr, size, *plan), None, None, None


def segment_csr(src: Tensor, indptr: Tensor, reduce: str) -> Optional[Tensor]:
    """``graphbias::segment_csr`` on the split kernels.

    Parameters
    ----------
    src : Tensor
        ``[E, ...]`` floating-point input.
    indptr : Tensor
        Validated ``[S + 1]`` segment pointer.
    reduce : str
        ``"sum"``, ``"mean"``, ``"max"`` or ``"min"``.

    Returns
    -------
    Tensor or None
        ``[S, ...]``; ``None`` when no segment is long enough to split.
    """
    plan = plan_for(indptr)
    if plan is None:
        return None
    return _SplitSegment.apply(src, indptr, reduce, plan)
