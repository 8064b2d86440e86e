"""Loads the compiled kernels (``graphbias._C``) and registers their shapes for
``torch.compile`` (fake tensors). ``AVAILABLE`` says whether they loaded."""
from __future__ import annotations

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

    def _split_fake(base: Callable[..., Any]) -> Callable[..., Any]:
        """The fake of a split twin: its op's fake, the plan's fields dropped."""
        def fake(*args: Any) -> Any:
            return base(*args[:-4])
        return fake

    for _name, _base in zip(SPLIT_OPS, (_spmm_fw_fake, _spmm_value_bw_fake, _spmm_arg_bw_fake,
                                        _segment_csr_fw_fake, _gather_csr_fake)):
        if hasattr(torch.ops.graphbias, _name + "_split"):
            torch.library.register_fake(f"graphbias::{_name}_split")(_split_fake(_base))
