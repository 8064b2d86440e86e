"""Front-end argument checks shared by every backend: bad input fails here,
with a message that names the argument, never inside a kernel."""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

REDUCTIONS = ("sum", "mean", "max", "min")


def check_reduce(reduce: str) -> str:
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
    return reduce


def check_float(name: str, t: Tensor) -> None:
    if not isinstance(t, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise ValueError(f"{name} must be a floating point tensor, got {t.dtype}")


def check_index(name: str, index: Tensor, size: Optional[int]) -> Tensor:
    """Checks an integer index tensor; returns it as int64."""
    if not isinstance(index, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(index).__name__}")
    if index.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"{name} must be int64 (or int32), got {index.dtype}")
    if index.dim() != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {tuple(index.shape)}")
    if index.numel() > 0:
        lo, hi = int(index.min()), int(index.max())
        if lo < 0:
            raise ValueError(f"{name} has a negative entry ({lo})")
        if size is not None and hi >= size:
            raise ValueError(f"{name} has entry {hi}, out of range for size {size}")
    return index.to(torch.long)


def check_same_device(**tensors: Optional[Tensor]) -> None:
    devices = {name: t.device for name, t in tensors.items() if t is not None}
    if len(set(devices.values())) > 1:
        listed = ", ".join(f"{n} on {d}" for n, d in devices.items())
        raise ValueError(f"tensors must be on one device: {listed}")


def check_indptr(indptr: Tensor, length: int) -> Tensor:
    if not isinstance(indptr, Tensor) or indptr.dtype not in (torch.int64, torch.int32):
        raise ValueError("indptr must be an int64 (or int32) tensor")
    if indptr.dim() != 1 or indptr.numel() == 0:
        raise ValueError(f"indptr must be a non-empty 1-D tensor, got shape {tuple(indptr.shape)}")
    indptr = indptr.to(torch.long)
    if int(indptr[0]) != 0:
        raise ValueError(f"indptr must start at 0, starts at {int(indptr[0])}")
    if int(indptr[-1]) != length:
        raise ValueError(
            f"indptr ends at {int(indptr[-1])} but src has {length} rows along dim 0")
    if indptr.numel() > 1 and bool((indptr[1:] < indptr[:-1]).any()):
        raise ValueError("indptr must be non-decreasing (sorted)")
    return indptr
