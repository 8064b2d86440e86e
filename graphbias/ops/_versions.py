"""Stamps that tell whether tensors were replaced or changed in place.

A cache keyed on tensors (a validated CSR, a transpose, the graph built from an
``edge_index``) keeps a stamp of them: each tensor with its storage address and
version counter, which every in-place operation advances. The stamp holds the
tensors themselves, so their addresses cannot be reused by other tensors while it
lives, and identity (``is``) can be trusted.

>>> import torch
>>> t = torch.zeros(3)
>>> s = stamp(t)
>>> unchanged(s, t)
True
>>> t[0] = 1.0
>>> unchanged(s, t)
False
"""
from __future__ import annotations

from typing import Optional

from torch import Tensor

__all__ = ["stamp", "unchanged"]


def stamp(*tensors: Tensor) -> Optional[tuple]:
    """``(tensor, storage address, version)`` of each tensor.

    Parameters
    ----------
    *tensors : Tensor
        The tensors to remember.

    Returns
    -------
    tuple or None
        One triple per tensor; ``None`` when a tensor keeps no version counter
        (made under ``torch.inference_mode``), so that nothing is cached for it.
    """
    try:
        return tuple((t, t.data_ptr(), t._version) for t in tensors)
    except RuntimeError:
        return None


def unchanged(recorded: Optional[tuple], *tensors: Tensor) -> bool:
    """Whether ``tensors`` are the stamped ones, at the same address and version.

    Parameters
    ----------
    recorded : tuple or None
        A stamp from :func:`stamp` (``None`` never matches).
    *tensors : Tensor
        The tensors in use now, in the stamped order.

    Returns
    -------
    bool
    """
    if recorded is None or len(recorded) != len(tensors):
        return False
    try:
        return all(s is t and ptr == t.data_ptr() and version == t._version
                   for (s, ptr, version), t in zip(recorded, tensors))
    except RuntimeError:
        return False
