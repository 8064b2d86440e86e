r"""Frontier bookkeeping: the entries of a few rows of a CSR, and the distinct
columns those rows reach.

Algorithms that touch only a changing part of a graph per step (a BFS frontier, a
Bellman-Ford relaxation wave, the frontier execution of
:mod:`graphbias.compile`) need, per step, the in-edges of the active nodes and the
set of nodes their out-edges reach. Both take time proportional to the active
rows' entries, never to the graph. On the CPU each is one compiled kernel; the
pure-torch path (``GRAPHBIAS_BACKEND=torch``, other devices) gives the same
results with a handful of tensor ops.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from . import _compiled
from ._checks import check_tensor

__all__ = ["csr_rows", "reached"]


def csr_rows(indptr: Tensor, rows: Tensor) -> tuple[Tensor, Tensor]:
    r"""The entries of the rows ``rows`` of a CSR, row after row.

    Parameters
    ----------
    indptr : Tensor
        ``[R + 1]`` int64 row pointers of the matrix.
    rows : Tensor
        ``[A]`` int64 row ids (repeats allowed), in the order wanted.

    Returns
    -------
    indptr : Tensor
        ``[A + 1]``: the row pointers of the selected rows as a matrix of their own.
    positions : Tensor
        ``[E]``: the position in the matrix of each selected entry, so
        ``indices[positions]`` are their column ids and ``values[positions]`` their
        values.

    Raises
    ------
    ValueError
        ``indptr`` or ``rows`` not 1-D int64; a row id outside ``[0, R)``.

    Examples
    --------
    >>> import torch
    >>> sub, pos = csr_rows(torch.tensor([0, 2, 3, 5]), torch.tensor([2, 0]))
    >>> sub.tolist(), pos.tolist()
    ([0, 2, 4], [3, 4, 0, 1])
    """
    _check_ids("indptr", indptr)
    _check_ids("rows", rows)
    if _compiled.cpu_kernel(rows):
        return _kernel("csr_rows", indptr, rows)
    _check_rows(indptr, rows)
    start = indptr.index_select(0, rows)
    count = indptr.index_select(0, rows + 1) - start
    sub = torch.zeros(rows.numel() + 1, dtype=torch.long, device=rows.device)
    torch.cumsum(count, 0, out=sub[1:])
    shift = torch.repeat_interleave(start - sub[:-1], count)
    return sub, torch.arange(shift.numel(), device=rows.device) + shift


def reached(indptr: Tensor, indices: Tensor, rows: Tensor, *, with_rows: bool,
            mark: Tensor) -> Tensor:
    r"""The distinct column ids in the rows ``rows`` (and the rows themselves when
    ``with_rows``): for the transposed adjacency, the nodes that the out-edges of
    ``rows`` reach.

    Parameters
    ----------
    indptr, indices : Tensor
        The matrix's int64 row pointers and column ids.
    rows : Tensor
        ``[A]`` int64 row ids.
    with_rows : bool
        Count the rows themselves as reached.
    mark : Tensor
        Scratch space of the compiled kernel: a bool tensor with one entry per
        column id (and per row id when ``with_rows``), all ``False``; it is
        ``False`` again on return, so one buffer serves every step of a run.

    Returns
    -------
    Tensor
        The reached ids, each once, in no particular order.

    Raises
    ------
    ValueError
        Tensors of the wrong type or shape; an id outside ``mark``.

    Examples
    --------
    >>> import torch
    >>> indptr, indices = torch.tensor([0, 2, 3, 3]), torch.tensor([1, 2, 2])
    >>> mark = torch.zeros(3, dtype=torch.bool)
    >>> sorted(reached(indptr, indices, torch.tensor([0, 1]), with_rows=False,
    ...                mark=mark).tolist())
    [1, 2]
    """
    _check_ids("indptr", indptr)
    _check_ids("indices", indices)
    _check_ids("rows", rows)
    if mark.dtype != torch.bool or mark.dim() != 1 or not mark.is_contiguous():
        raise ValueError(f"mark must be a contiguous 1-D bool tensor, got {mark.dtype} "
                         f"of shape {tuple(mark.shape)}")
    if _compiled.cpu_kernel(rows):
        return _kernel("reached", indptr, indices, rows, with_rows, mark)
    _, positions = csr_rows(indptr, rows)
    ids = indices.index_select(0, positions)
    if with_rows:
        ids = torch.cat([rows, ids])
    out = ids.unique()                                  # sorted
    if out.numel() and not 0 <= int(out[0]) <= int(out[-1]) < mark.numel():
        raise ValueError(f"ids {int(out[0])}..{int(out[-1])} reach outside mark's "
                         f"{mark.numel()} entries")
    return out


def _kernel(name: str, *args: object) -> Any:
    """The compiled op ``name``; the bounds it checks come back as ``ValueError``."""
    try:
        return getattr(torch.ops.graphbias, name)(*args)
    except RuntimeError as err:
        raise ValueError(str(err).split("\n")[0]) from None


def _check_ids(name: str, t: object) -> None:
    """Type and shape only (reading the entries is left to the kernel or
    :func:`_check_rows`, so a step does not pay for a second pass)."""
    t = check_tensor(name, t)
    if t.dtype != torch.long or t.dim() != 1:
        raise ValueError(f"{name} must be a 1-D int64 tensor, got {t.dtype} of shape "
                         f"{tuple(t.shape)}")


def _check_rows(indptr: Tensor, rows: Tensor) -> None:
    if indptr.numel() < 1:
        raise ValueError("indptr must not be empty")
    if rows.numel():
        lo, hi = int(rows.min()), int(rows.max())
        if lo < 0 or hi >= indptr.numel() - 1:
            raise ValueError(f"rows {lo}..{hi} are not all rows of a matrix with "
                             f"{indptr.numel() - 1} rows")
