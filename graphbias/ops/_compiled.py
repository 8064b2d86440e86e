"""Loads the compiled kernels (``graphbias._C``) and registers their shapes for
``torch.compile`` (fake tensors). ``AVAILABLE`` says whether they loaded."""
from __future__ import annotations

import os
from typing import Any, Callable, Optional

import torch
from torch import Tensor

try:
    from .. import _C  # noqa: F401  (loading it registers the graphbias ops)

    AVAILABLE, LOAD_ERROR = True, ""
except ImportError as err:  # not built: no compiler at install, or GRAPHBIAS_NO_EXT=1
    AVAILABLE, LOAD_ERROR = False, str(err)

#: device types with compiled kernels (CUDA only when built with nvcc)
DEVICE_TYPES = frozenset(
    kind for kind, key in (("cpu", "CPU"), ("cuda", "CUDA"))
    if AVAILABLE and torch._C._dispatch_has_kernel_for_dispatch_key(
        "graphbias::_segment_csr_fw", key))

#: ops with a ``<name>_split`` twin in CUDA builds, the hub-balanced kernels of
#: ``ops/_balanced.py``: the twin takes the op's arguments followed by the four fields
#: of a split plan and returns what the op returns
SPLIT_OPS = ("_spmm_fw", "_spmm_value_bw", "_spmm_arg_bw", "_segment_csr_fw", "_gather_csr")

_BACKENDS = ("auto", "torch", "compiled")


def backend() -> str:
    """The path the ops run on.

    Returns
    -------
    str
        ``"compiled"`` (the kernels of ``cuda_ext/``) or ``"torch"`` (pure PyTorch).
        ``GRAPHBIAS_BACKEND=torch`` forces the pure-torch path; ``=compiled``
        requires the kernels and raises if they were not built.

    Raises
    ------
    ValueError
        If ``GRAPHBIAS_BACKEND`` is not one of ``auto``, ``torch``, ``compiled``.
    RuntimeError
        If ``GRAPHBIAS_BACKEND=compiled`` and the kernels were not built.

    Examples
    --------
    >>> backend() in ("compiled", "torch")
    True
    """
    requested = os.environ.get("GRAPHBIAS_BACKEND", "auto").lower()
    if requested not in _BACKENDS:
        raise ValueError(
            f"GRAPHBIAS_BACKEND must be one of {_BACKENDS}, got {requested!r}")
    if requested == "torch":
        return "torch"
    if not AVAILABLE:
        if requested == "compiled":
            raise RuntimeError("GRAPHBIAS_BACKEND=compiled but graphbias._C is not "
                               f"built: {LOAD_ERROR}")
        return "torch"
    return "compiled"


def kernels_for(device_type: str) -> bool:
    """Whether compiled kernels run on ``device_type``: built for it (CUDA ones only
    with nvcc) and the compiled backend selected."""
    return device_type in DEVICE_TYPES and backend() == "compiled"


def cpu_kernel(t: Tensor) -> bool:
    """Whether the compiled CPU kernels serve ``t``, a CPU tensor (the ops without a
    CUDA kernel use their pure-torch path elsewhere)."""
    return t.device.type == "cpu" and kernels_for("cpu")


if AVAILABLE:
    def _arg_like(reduce: str, index: Tensor, shape: list[int], empty: list[int]) -> Tensor:
        return index.new_empty(shape if reduce in ("max", "min") else empty)

    @torch.library.register_fake("graphbias::_spmm_fw")
    def _spmm_fw_fake(indptr: Tensor, indices: Tensor, value: Optional[Tensor], x: Tensor,
                      reduce: str) -> tuple[Tensor, Tensor]:
        shape = [indptr.size(0) - 1, x.size(1)]
        return x.new_empty(shape), _arg_like(reduce, indptr, shape, [0, 0])

    @torch.library.register_fake("graphbias::_spmm_value_bw")
    def _spmm_value_bw_fake(indptr: Tensor, indices: Tensor, x: Tensor, grad_out: Tensor,
                            arg: Optional[Tensor], reduce: str, heads: int) -> Tensor:
        return x.new_empty([indices.size(0), heads] if heads > 0 else [indices.size(0)])

    @torch.library.register_fake("graphbias::_spmm_arg_bw")
    def _spmm_arg_bw_fake(indptr_t: Tensor, indices_t: Tensor, pos_t: Tensor,
                          indices: Tensor, value: Optional[Tensor], arg: Tensor,
                          grad_out: Tensor) -> Tensor:
        return grad_out.new_empty([indptr_t.size(0) - 1, grad_out.size(1)])

    @torch.library.register_fake("graphbias::_segment_csr_fw")
    def _segment_csr_fw_fake(src: Tensor, indptr: Tensor, reduce: str) -> tuple[Tensor, Tensor]:
        shape = [indptr.size(0) - 1] + list(src.shape[1:])
        return src.new_empty(shape), _arg_like(reduce, indptr, shape, [0])

    @torch.library.register_fake("graphbias::_gather_csr")
    def _gather_csr_fake(src: Tensor, indptr: Tensor, size: int) -> Tensor:
        return src.new_empty([size] + list(src.shape[1:]))

    @torch.library.register_fake("graphbias::_segment_arg_bw")
    def _segment_arg_bw_fake(grad_out: Tensor, arg: Tensor, size: int) -> Tensor:
        return grad_out.new_empty([size] + list(grad_out.shape[1:]))

    @torch.library.register_fake("graphbias::_scatter_coo_atomic")
    def _scatter_coo_atomic_fake(src: Tensor, index: Tensor, dim_size: int,
                                 reduce: str) -> Tensor:
        return src.new_empty([dim_size] + list(src.shape[1:]))

    @torch.library.register_fake("graphbias::relu_select")
    def _relu_select_fake(g: Tensor, a: Tensor, b: Tensor, margin: float) -> Tensor:
        return torch.empty_like(a, memory_format=torch.contiguous_format)

    @torch.library.register_fake("graphbias::masked_spmm")
    def _masked_spmm_fake(indptr: Tensor, indices: Tensor, value: Optional[Tensor], x: Tensor,
                          words: Tensor, scale: float) -> Tensor:
        return x.new_empty([words.size(0), indptr.size(0) - 1, x.size(1)])

    @torch.library.register_fake("graphbias::csr_rows")
    def _csr_rows_fake(indptr: Tensor, rows: Tensor) -> tuple[Tensor, Tensor]:
        entries = torch.library.get_ctx().new_dynamic_size()
        return indptr.new_empty([rows.size(0) + 1]), indptr.new_empty([entries])

    @torch.library.register_fake("graphbias::reached")
    def _reached_fake(indptr: Tensor, indices: Tensor, rows: Tensor, with_rows: bool,
                      mark: Tensor) -> Tensor:
        return indptr.new_empty([torch.library.get_ctx().new_dynamic_size()])

    def _split_fake(base: Callable[..., Any]) -> Callable[..., Any]:
        """The fake of a split twin: its op's fake, the plan's fields dropped."""
        def fake(*args: Any) -> Any:
            return base(*args[:-4])
        return fake

    for _name, _base in zip(SPLIT_OPS, (_spmm_fw_fake, _spmm_value_bw_fake, _spmm_arg_bw_fake,
                                        _segment_csr_fw_fake, _gather_csr_fake)):
        if hasattr(torch.ops.graphbias, _name + "_split"):
            torch.library.register_fake(f"graphbias::{_name}_split")(_split_fake(_base))
