// Autograd for graphbias::spmm. The backward for x multiplies by the transpose
// whose structure the caller caches (indptr_t, indices_t, pos_t); it is rebuilt
// here only when the caller passes none.
#include <torch/autograd.h>
#include <torch/library.h>

#include <string>

#include "../common.h"
#include "ops.h"

namespace graphbias {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Transpose {
  at::Tensor indptr, indices, pos;
};

Transpose build_transpose(const at::Tensor& indptr, const at::Tensor& indices, int64_t cols) {
  const int64_t rows = indptr.numel() - 1;
  auto counts = indptr.slice(0, 1) - indptr.slice(0, 0, rows);
  auto row = at::repeat_interleave(at::arange(rows, indptr.options()), counts);
  auto pos = at::argsort(indices * std::max<int64_t>(rows, 1) + row, /*stable=*/true);
  auto t_indptr = at::zeros({cols + 1}, indptr.options());
  t_indptr.slice(0, 1).copy_(at::cumsum(at::bincount(indices, {}, cols), 0));
  return {t_indptr, row.index_select(0, pos), pos};
}

at::Tensor undefined_if_none(const c10::optional<at::Tensor>& t) {
  return t.has_value() ? *t : at::Tensor();
}

class SpMMFunction : public torch::autograd::Function<SpMMFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& indptr,
                               const at::Tensor& indices, const ops::OptTensor& value,
                               const at::Tensor& x, std::string reduce,
                               const ops::OptTensor& indptr_t, const ops::OptTensor& indices_t,
                               const ops::OptTensor& pos_t) {
    auto [out, arg] = ops::spmm_fw(indptr, indices, value, x, reduce);
    ctx->saved_data["reduce"] = reduce;
    ctx->saved_data["cols"] = x.size(0);
    // needs_input_grad counts only the tensors passed, so a missing value would
    // shift its indices: record what needs a gradient here instead.
    ctx->saved_data["value_grad"] = value.has_value() && value->requires_grad();
    ctx->saved_data["x_grad"] = x.requires_grad();
    ctx->save_for_backward({indptr, indices, undefined_if_none(value), x, arg,
                            undefined_if_none(indptr_t), undefined_if_none(indices_t),
                            undefined_if_none(pos_t)});
    ctx->mark_non_differentiable({arg});
    return {out};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &indptr = saved[0], &indices = saved[1], &value = saved[2], &x = saved[3];
    const auto& arg = saved[4];
    const std::string reduce = ctx->saved_data["reduce"].toStringRef();
    const Reduce r = parse_reduce(reduce);
    const auto grad = grads[0].contiguous();
    const ops::OptTensor v = value.defined() ? ops::OptTensor(value) : c10::nullopt;
    at::Tensor grad_value, grad_x;
    if (ctx->saved_data["value_grad"].toBool()) {
      grad_value = ops::spmm_value_bw(indptr, indices, x, grad,
                                      has_arg(r) ? ops::OptTensor(arg) : c10::nullopt, reduce,
                                      value.dim() == 2 ? value.size(1) : 0);
    }
    if (ctx->saved_data["x_grad"].toBool()) {
      Transpose t{saved[5], saved[6], saved[7]};
      if (!t.indptr.defined()) t = build_transpose(indptr, indices, ctx->saved_data["cols"].toInt());
      if (has_arg(r)) {
        grad_x = ops::spmm_arg_bw(t.indptr, t.indices, t.pos, indices, v, arg, grad);
      } else {
        at::Tensor g = grad;
        if (r == Reduce::Mean) {
          const int64_t rows = indptr.numel() - 1;
          auto deg = (indptr.slice(0, 1) - indptr.slice(0, 0, rows)).clamp_min(1);
          g = grad / deg.to(grad.scalar_type()).unsqueeze(1);
        }
        const ops::OptTensor vt = value.defined() ? ops::OptTensor(value.index_select(0, t.pos))
                                                  : c10::nullopt;
        grad_x = std::get<0>(ops::spmm_fw(t.indptr, t.indices, vt, g, "sum"));
      }
    }
    return {at::Tensor(), at::Tensor(), grad_value, grad_x,
            at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor spmm_autograd(const at::Tensor& indptr, const at::Tensor& indices,
                         const c10::optional<at::Tensor>& value, const at::Tensor& x,
                         c10::string_view reduce, const c10::optional<at::Tensor>& indptr_t,
                         const c10::optional<at::Tensor>& indices_t,
                         const c10::optional<at::Tensor>& pos_t) {
  return SpMMFunction::apply(indptr, indices, value, x, std::string(reduce), indptr_t,
                             indices_t, pos_t)[0];
}

// Without autograd (inference mode, meta tensors): the forward alone.
at::Tensor spmm_forward_only(const at::Tensor& indptr, const at::Tensor& indices,
                             const c10::optional<at::Tensor>& value, const at::Tensor& x,
                             c10::string_view reduce, const c10::optional<at::Tensor>&,
                             const c10::optional<at::Tensor>&, const c10::optional<at::Tensor>&) {
  return std::get<0>(ops::spmm_fw(indptr, indices, value, x, reduce));
}

}  // namespace

TORCH_LIBRARY_IMPL(graphbias, Autograd, m) { m.impl("spmm", &spmm_autograd); }
TORCH_LIBRARY_IMPL(graphbias, CompositeExplicitAutograd, m) {
  m.impl("spmm", &spmm_forward_only);
}

}  // namespace graphbias
