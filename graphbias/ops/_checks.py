"""Front-end argument checks shared by every backend: bad input fails here, with a
``ValueError`` that names the argument and the offending entry, never inside a
kernel (where it could read out of bounds) or deep in torch."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from .._validation import Integer, check_scalar

REDUCTIONS = ("sum", "mean", "max", "min")
INDEX_DTYPES = (torch.int64, torch.int32)


def check_reduce(reduce: str) -> str:
    """Returns ``reduce`` if it is one of :data:`REDUCTIONS`, else raises ``ValueError``."""
    if not isinstance(reduce, str) or reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
    return reduce


def check_tensor(name: str, t: object) -> Tensor:
    """A real tensor: not a meta tensor, whose entries the checks (and kernels) read."""
    if not isinstance(t, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.is_meta:
        raise ValueError(f"{name} is a meta tensor (a shape without data); graphbias.ops "
                         "needs tensors on a real device")
    return t


def check_float(name: str, t: object) -> Tensor:
    """A real floating-point tensor with at least one dimension."""
    t = check_tensor(name, t)
    if not t.is_floating_point():
        raise ValueError(f"{name} must be a floating point tensor, got {t.dtype}")
    if t.dim() == 0:
        raise ValueError(f"{name} must have at least one dimension, got a 0-d tensor")
    return t


def check_dim(dim: int, ndim: int) -> int:
    """``dim`` as a non-negative axis of a tensor of ``ndim`` dimensions; no wrapping
    beyond ``[-ndim, ndim)``."""
    dim = check_scalar("dim", dim, Integer(-ndim, ndim - 1))
    return dim % ndim


def check_dim_size(dim_size: Optional[int]) -> Optional[int]:
    """``None`` or a non-negative integer (numpy integers accepted, bools not)."""
    return check_scalar("dim_size", dim_size, Integer(0), None)


def _first(mask: Tensor) -> int:
    return int(mask.nonzero()[0, 0])


def check_index(name: str, index: object, size: Optional[int]) -> Tensor:
    """A 1-D int64 / int32 index with entries in ``[0, size)`` (``size=None``: any
    non-negative entry); returned as int64. The error names the first bad position."""
    index = check_tensor(name, index)
    if index.dtype not in INDEX_DTYPES:
        raise ValueError(f"{name} must be int64 (or int32), got {index.dtype}")
    if index.dim() != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {tuple(index.shape)}")
    if index.numel() > 0:
        lo, hi = int(index.min()), int(index.max())
        if lo < 0:
            raise ValueError(f"{name} has a negative entry ({lo}) at position "
                             f"{_first(index < 0)}")
        if size is not None and hi >= size:
            raise ValueError(f"{name} has entry {hi}, out of range for size {size}, at "
                             f"position {_first(index >= size)}")
    return index.to(torch.long)


def check_same_device(**tensors: Optional[Tensor]) -> None:
    """All given tensors (``None`` skipped) on one device."""
    devices = {name: t.device for name, t in tensors.items() if t is not None}
    if len(set(devices.values())) > 1:
        listed = ", ".join(f"{n} on {d}" for n, d in devices.items())
        raise ValueError(f"tensors must be on one device: {listed}")


def check_indptr(indptr: object, length: int) -> Tensor:
    """A sorted 1-D int64 / int32 row pointer from 0 to ``length``; returned as int64."""
    indptr = check_tensor("indptr", indptr)
    if indptr.dtype not in INDEX_DTYPES:
        raise ValueError(f"indptr must be an int64 (or int32) tensor, got {indptr.dtype}")
    if indptr.dim() != 1 or indptr.numel() == 0:
        raise ValueError(f"indptr must be a non-empty 1-D tensor, got shape {tuple(indptr.shape)}")
    indptr = indptr.to(torch.long)
    if int(indptr[0]) != 0:
        raise ValueError(f"indptr must start at 0, starts at {int(indptr[0])}")
    if int(indptr[-1]) != length:
        raise ValueError(
            f"indptr ends at {int(indptr[-1])} but src has {length} rows along dim 0")
    if indptr.numel() > 1:
        drops = indptr[1:] < indptr[:-1]
        if bool(drops.any()):
            raise ValueError("indptr must be non-decreasing (sorted); it decreases after "
                             f"position {_first(drops)}")
    return indptr
