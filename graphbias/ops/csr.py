"""Compressed sparse row structure shared by the graph layer and the kernels."""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor

from ._versions import stamp as _stamp
from ._versions import unchanged as _unchanged

__all__ = ["CSR"]


def _checked(recorded: Optional[tuple], *tensors: Tensor) -> bool:
    """Whether a structure stamped when it was checked or built can be used as is:
    :func:`~graphbias.ops._versions.unchanged`, or any recorded stamp while
    ``torch.compile`` traces (traced code cannot compare storage addresses, so a
    compiled caller relies on the eager check before it and must not change the
    structure in place between calls)."""
    if recorded is not None and torch.compiler.is_compiling():
        return True
    return _unchanged(recorded, *tensors)


class CSR:
    r"""A sparse ``rows x cols`` matrix in compressed sparse row form.

    Row ``i`` holds columns ``indices[indptr[i]:indptr[i + 1]]`` with optional
    ``values`` in the same order (``None`` means all ones). ``perm[k]`` is the
    position, in the COO input the matrix was built from, of stored entry ``k``;
    it lets per-edge tensors be put in CSR order with one gather.

    Structural caches (the expanded row index, the transpose) are shared by every
    matrix made with :meth:`with_values`, so a layer that re-weights the same graph
    each step (GCN normalisation, attention) never rebuilds them.
    """

    __slots__ = ("indptr", "indices", "values", "perm", "shape", "_shared")

    def __init__(
        self,
        indptr: Tensor,
        indices: Tensor,
        shape: tuple[int, int],
        values: Optional[Tensor] = None,
        perm: Optional[Tensor] = None,
        _shared: Optional[dict] = None,
    ) -> None:
        self.indptr = indptr
        self.indices = indices
        self.values = values
        self.perm = perm
        self.shape = (int(shape[0]), int(shape[1]))
        self._shared = {} if _shared is None else _shared

    # ------------------------------------------------------------------ build
    @classmethod
    def from_coo(
        cls,
        row: Tensor,
        col: Tensor,
        shape: tuple[int, int],
        values: Optional[Tensor] = None,
    ) -> "CSR":
        """Builds the CSR of entries ``(row[k], col[k])``; sorted by row, then column."""
        num_rows, num_cols = int(shape[0]), int(shape[1])
        row = row.to(torch.long)
        col = col.to(torch.long)
        key = row * max(num_cols, 1) + col
        perm = torch.argsort(key, stable=True)
        row_sorted = row[perm]
        counts = torch.bincount(row_sorted, minlength=num_rows)
        indptr = torch.zeros(num_rows + 1, dtype=torch.long, device=row.device)
        torch.cumsum(counts, 0, out=indptr[1:])
        csr = cls(indptr, col[perm], (num_rows, num_cols),
                  None if values is None else values[perm], perm)
        csr._shared["row"] = row_sorted
        return csr

    @classmethod
    def trusted(cls, indptr: Tensor, indices: Tensor, shape: tuple[int, int],
                values: Optional[Tensor] = None) -> "CSR":
        """A CSR recorded as checked without checking it, for structures that
        graphbias derives from a validated matrix step after step (a frontier's
        in-edges), where a check per step would cost more than the product. A
        later in-place change of ``indptr`` or ``indices`` is still caught by
        :meth:`validate`.
        """
        csr = cls(indptr, indices, shape, values)
        csr._record_valid()
        return csr

    def with_values(self, values: Optional[Tensor]) -> "CSR":
        """The same sparsity pattern with new ``values`` (already in CSR order)."""
        if values is not None and values.size(0) != self.nnz:
            raise ValueError(
                f"values has {values.size(0)} entries, the CSR has {self.nnz}")
        return CSR(self.indptr, self.indices, self.shape, values, self.perm,
                   self._shared)

    def validate(self) -> None:
        """Checks the structure before a kernel reads it; kernels trust a validated CSR.

        The check runs once and is then remembered together with the identity,
        storage address and version counter of ``indptr`` and ``indices``: a
        tensor changed in place (its version moves) or replaced forces a new check,
        and drops the structures derived from the old one (row ids, transpose).
        Tensors made under ``torch.inference_mode`` keep no version counter, so
        their structure is checked on every call.

        Raises
        ------
        ValueError
            Naming the problem: ``indptr`` / ``indices`` of the wrong type, shape
            or device, ``indptr`` not running from 0 to ``nnz`` or decreasing,
            column ids out of range, values of the wrong length.

        Examples
        --------
        >>> import torch
        >>> csr = CSR(torch.tensor([0, 1, 2]), torch.tensor([1, 0]), (2, 2))
        >>> csr.validate()
        >>> csr.indices[0] = 5  # in place: the next call checks again
        >>> csr.validate()
        Traceback (most recent call last):
        ...
        ValueError: CSR column ids must lie in [0, 2), found 0..5 (first bad entry: 0)
        """
        if self.values is not None and self.values.size(0) != self.nnz:
            raise ValueError(f"values has {self.values.size(0)} entries, the CSR has {self.nnz}")
        valid = self._shared.get("valid")
        if valid is not None:
            if valid[1] == self.shape and _checked(valid[0], self.indptr, self.indices):
                return
            self._shared.clear()  # changed since checked: drop what was derived from it
        self._check_structure()
        self._record_valid()

    def _record_valid(self) -> None:
        """Remembers the structure as checked, with the stamp :meth:`validate`
        compares (tensors without a version counter are never remembered)."""
        stamp = _stamp(self.indptr, self.indices)
        if stamp is not None:
            self._shared["valid"] = (stamp, self.shape)

    def _check_structure(self) -> None:
        ip, ix = self.indptr, self.indices
        for name, t in (("indptr", ip), ("indices", ix)):
            if not isinstance(t, Tensor) or t.dtype != torch.long or t.dim() != 1:
                raise ValueError(f"CSR {name} must be a 1-D int64 tensor")
            if t.is_meta:
                raise ValueError(f"CSR {name} is a meta tensor (a shape without data)")
        if ip.device != ix.device:
            raise ValueError(f"CSR indptr is on {ip.device}, indices on {ix.device}")
        if ip.numel() != self.num_rows + 1:
            raise ValueError(f"CSR indptr has {ip.numel()} entries, expected "
                             f"{self.num_rows + 1} for {self.num_rows} rows")
        if int(ip[0]) != 0 or int(ip[-1]) != ix.numel():
            raise ValueError(f"CSR indptr must run from 0 to nnz={ix.numel()}, runs from "
                             f"{int(ip[0])} to {int(ip[-1])}")
        drops = ip[1:] < ip[:-1]
        if bool(drops.any()):
            raise ValueError("CSR indptr must be non-decreasing (sorted); it decreases "
                             f"after row {int(drops.nonzero()[0, 0])}")
        if ix.numel():
            lo, hi = int(ix.min()), int(ix.max())
            if lo < 0 or hi >= self.num_cols:
                bad = int(((ix < 0) | (ix >= self.num_cols)).nonzero()[0, 0])
                raise ValueError(f"CSR column ids must lie in [0, {self.num_cols}), found "
                                 f"{lo}..{hi} (first bad entry: {bad})")

    # -------------------------------------------------------------- properties
    @property
    def nnz(self) -> int:
        return int(self.indices.numel())

    @property
    def num_rows(self) -> int:
        return self.shape[0]

    @property
    def num_cols(self) -> int:
        return self.shape[1]

    @property
    def device(self) -> torch.device:
        return self.indptr.device

    def row(self) -> Tensor:
        """Row id of every stored entry (cached)."""
        cached = self._shared.get("row")
        if cached is None:
            counts = self.indptr[1:] - self.indptr[:-1]
            cached = torch.repeat_interleave(
                torch.arange(self.num_rows, device=self.device), counts)
            self._shared["row"] = cached
        return cached

    def degree(self) -> Tensor:
        """Number of stored entries per row."""
        return self.indptr[1:] - self.indptr[:-1]

    def transpose_structure(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(indptr, indices, pos)`` of the transpose; ``pos[k]`` is the entry of
        ``self`` that the transpose stores at ``k``.

        Built once, then cached; rebuilt if one of its tensors was changed in place
        since (the transpose of a transpose holds its parent's structure), so a
        kernel never reads a stale transpose.

        Returns
        -------
        indptr : Tensor
            ``[num_cols + 1]`` row pointer of the transpose.
        indices : Tensor
            ``[nnz]`` column ids of the transpose (rows of ``self``).
        pos : Tensor
            ``[nnz]`` position in ``self`` of each entry of the transpose.
        """
        cached = self._shared.get("transpose")
        if cached is not None and not _checked(self._shared["transpose_stamp"], *cached):
            cached = None
        if cached is None:
            row = self.row()
            key = self.indices * max(self.num_rows, 1) + row
            pos = torch.argsort(key, stable=True)
            counts = torch.bincount(self.indices, minlength=self.num_cols)
            indptr = torch.zeros(self.num_cols + 1, dtype=torch.long,
                                 device=self.device)
            torch.cumsum(counts, 0, out=indptr[1:])
            cached = (indptr, row[pos], pos)
            self._shared["transpose"] = cached
            self._shared["transpose_stamp"] = _stamp(*cached)
        return cached

    def t(self) -> "CSR":
        """The transpose (CSC of ``self``), sharing the cached structure."""
        indptr, indices, pos = self.transpose_structure()
        key = ("transpose_csr", )
        shared_t = self._shared.get(key)
        if shared_t is None:
            inverse = torch.empty_like(pos)
            inverse[pos] = torch.arange(pos.numel(), device=pos.device)
            transpose = (self.indptr, self.indices, inverse)
            shared_t = {"transpose": transpose, "transpose_stamp": _stamp(*transpose),
                        "row": indices}
            self._shared[key] = shared_t
        values = None if self.values is None else self.values[pos]
        perm = None if self.perm is None else self.perm[pos]
        return CSR(indptr, indices, (self.num_cols, self.num_rows), values, perm,
                   shared_t)

    @classmethod
    def from_torch(cls, t: Tensor) -> "CSR":
        """Wraps a ``torch.sparse_csr_tensor`` (or COO, converted) without copying."""
        if t.layout == torch.sparse_coo:
            t = t.coalesce().to_sparse_csr()
        if t.layout != torch.sparse_csr or t.dim() != 2:
            raise ValueError(f"expected a 2-D sparse CSR tensor, got {t.layout} "
                             f"with shape {tuple(t.shape)}")
        return cls(t.crow_indices().to(torch.long), t.col_indices().to(torch.long),
                   tuple(t.shape), t.values())

    def to_torch(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """A ``torch.sparse_csr_tensor`` view (values default to ones)."""
        values = self.values
        if values is None:
            values = torch.ones(self.nnz, dtype=dtype, device=self.device)
        return torch.sparse_csr_tensor(self.indptr, self.indices, values,
                                       self.shape, check_invariants=False)

    def to_dense(self) -> Tensor:
        return self.to_torch().to_dense()

    def to(self, device: Any) -> "CSR":
        """The same matrix on ``device`` (itself when already there; caches are
        rebuilt on the new device when needed)."""
        device = torch.device(device)
        if self.device == device:
            return self
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return CSR(self.indptr.to(device), self.indices.to(device), self.shape,
                   move(self.values), move(self.perm))

    def __repr__(self) -> str:
        weighted = "weighted" if self.values is not None else "unweighted"
        return f"CSR(shape={self.shape}, nnz={self.nnz}, {weighted})"
