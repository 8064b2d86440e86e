// Autograd for graphbias::segment_csr.
#include <torch/autograd.h>
#include <torch/library.h>

#include <string>

#include "../common.h"
#include "ops.h"

namespace graphbias {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class SegmentCSRFunction : public torch::autograd::Function<SegmentCSRFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& src,
                               const at::Tensor& indptr, std::string reduce) {
    auto [out, arg] = ops::segment_csr_fw(src, indptr, reduce);
    ctx->saved_data["reduce"] = reduce;
    ctx->saved_data["size"] = src.size(0);
    ctx->save_for_backward({indptr, arg});
    ctx->mark_non_differentiable({arg});
    return {out};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &indptr = saved[0], &arg = saved[1];
    const Reduce r = parse_reduce(ctx->saved_data["reduce"].toStringRef());
    const int64_t size = ctx->saved_data["size"].toInt();
    auto grad = grads[0].contiguous();
    at::Tensor grad_src;
    if (has_arg(r)) {
      grad_src = ops::segment_arg_bw(grad, arg, size);
    } else {
      if (r == Reduce::Mean) {
        const int64_t rows = indptr.numel() - 1;
        auto count = (indptr.slice(0, 1) - indptr.slice(0, 0, rows)).clamp_min(1);
        std::vector<int64_t> shape(grad.dim(), 1);
        shape[0] = rows;
        grad = grad / count.to(grad.scalar_type()).view(shape);
      }
      grad_src = ops::gather_csr(grad, indptr, size);
    }
    return {grad_src, at::Tensor(), at::Tensor()};
  }
};

at::Tensor segment_csr_autograd(const at::Tensor& src, const at::Tensor& indptr,
                                c10::string_view reduce) {
  return SegmentCSRFunction::apply(src, indptr, std::string(reduce))[0];
}

at::Tensor segment_csr_forward_only(const at::Tensor& src, const at::Tensor& indptr,
                                    c10::string_view reduce) {
  return std::get<0>(ops::segment_csr_fw(src, indptr, reduce));
}

}  // namespace

TORCH_LIBRARY_IMPL(graphbias, Autograd, m) { m.impl("segment_csr", &segment_csr_autograd); }
TORCH_LIBRARY_IMPL(graphbias, CompositeExplicitAutograd, m) {
  m.impl("segment_csr", &segment_csr_forward_only);
}

}  // namespace graphbias
