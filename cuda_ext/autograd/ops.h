// Typed handles to the internal graphbias ops, called through the dispatcher so that
// each runs on the kernel of its inputs' device (CPU, CUDA, Meta).
#pragma once

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/ATen.h>

#include <tuple>

namespace graphbias {
namespace ops {

using OptTensor = c10::optional<at::Tensor>;

inline std::tuple<at::Tensor, at::Tensor> spmm_fw(const at::Tensor& indptr, const at::Tensor& indices,
                                                  const OptTensor& value, const at::Tensor& x,
                                                  c10::string_view reduce) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("graphbias::_spmm_fw", "")
                       .typed<std::tuple<at::Tensor, at::Tensor>(
                           const at::Tensor&, const at::Tensor&, const OptTensor&,
                           const at::Tensor&, c10::string_view)>();
  return op.call(indptr, indices, value, x, reduce);
}

inline at::Tensor spmm_value_bw(const at::Tensor& indptr, const at::Tensor& indices,
                                const at::Tensor& x, const at::Tensor& grad_out,
                                const OptTensor& arg, c10::string_view reduce, int64_t heads) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("graphbias::_spmm_value_bw", "")
                       .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                         const at::Tensor&, const OptTensor&, c10::string_view,
                                         int64_t)>();
  return op.call(indptr, indices, x, grad_out, arg, reduce, heads);
}

inline at::Tensor spmm_arg_bw(const at::Tensor& indptr_t, const at::Tensor& indices_t,
                              const at::Tensor& pos_t, const at::Tensor& indices,
                              const OptTensor& value, const at::Tensor& arg,
                              const at::Tensor& grad_out) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("graphbias::_spmm_arg_bw", "")
                       .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                         const at::Tensor&, const OptTensor&, const at::Tensor&,
                                         const at::Tensor&)>();
  return op.call(indptr_t, indices_t, pos_t, indices, value, arg, grad_out);
}

inline std::tuple<at::Tensor, at::Tensor> segment_csr_fw(const at::Tensor& src,
                                                         const at::Tensor& indptr,
                                                         c10::string_view reduce) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("graphbias::_segment_csr_fw", "")
                       .typed<std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, const at::Tensor&,
                                                                 c10::string_view)>();
  return op.call(src, indptr, reduce);
}

inline at::Tensor gather_csr(const at::Tensor& src, const at::Tensor& indptr, int64_t size) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("graphbias::_gather_csr", "")
                       .typed<at::Tensor(const at::Tensor&, const at::Tensor&, int64_t)>();
  return op.call(src, indptr, size);
}

inline at::Tensor segment_arg_bw(const at::Tensor& grad_out, const at::Tensor& arg, int64_t size) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("graphbias::_segment_arg_bw", "")
                       .typed<at::Tensor(const at::Tensor&, const at::Tensor&, int64_t)>();
  return op.call(grad_out, arg, size);
}

}  // namespace ops
}  // namespace graphbias
