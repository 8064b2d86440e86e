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

from collections import OrderedDict
from typing import Any, Callable, Hashable, Optional, Sequence

from torch import Tensor

__all__ = ["stamp", "unchanged", "StampedCache"]


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


class StampedCache:
    """A bounded cache of values built from tensors, least recently used out first.

    Each value is kept with a :func:`stamp` of its tensors: a lookup whose tensors
    were replaced or changed in place builds the value again, and tensors without a
    version counter are never cached.

    Parameters
    ----------
    maxsize : int
        How many values are kept.

    Examples
    --------
    >>> import torch
    >>> cache, t = StampedCache(2), torch.zeros(3)
    >>> first = cache.get(id(t), (t,), lambda: t.sum().item() + 1)
    >>> t[0] = 5.0                       # in place: built again
    >>> first, cache.get(id(t), (t,), lambda: t.sum().item() + 1), len(cache)
    (1.0, 6.0, 1)
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: "OrderedDict[Hashable, tuple[tuple, Any]]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, tensors: Sequence[Tensor], build: Callable[[], Any]
            ) -> Any:
        """The value cached under ``key`` while ``tensors`` are unchanged, else
        ``build()`` (cached when the tensors can be stamped)."""
        hit = self._entries.get(key)
        if hit is not None and unchanged(hit[0], *tensors):
            self._entries.move_to_end(key)
            return hit[1]
        value = build()
        recorded = stamp(*tensors)
        if recorded is not None:
            self._entries[key] = (recorded, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value
