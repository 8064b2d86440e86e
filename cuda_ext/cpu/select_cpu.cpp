// CPU kernel of the ReLU select of the compiled networks (graphbias.compile.layers):
//   out = (b + relu((a - b) + off)) - relu((b - a) + off),  off = margin * (g - 1),
// one pass instead of ten tensor ops, with the reference's operations in its order,
// one rounding per operation (no contraction into fused multiply-adds), so the
// result equals the pure-torch expression bit for bit.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <torch/library.h>

#include "../common.h"

namespace graphbias {
namespace {

template <typename T>
inline T relu(T x) {
  return x < T(0) ? T(0) : x;  // as torch.relu: NaN and -0.0 pass through
}

at::Tensor relu_select_cpu(const at::Tensor& g, const at::Tensor& a, const at::Tensor& b,
                           double margin) {
  TORCH_CHECK(g.sizes() == a.sizes() && a.sizes() == b.sizes(),
              "graphbias: relu_select needs g, a, b of one shape, got ", g.sizes(), ", ",
              a.sizes(), ", ", b.sizes());
  TORCH_CHECK(g.scalar_type() == a.scalar_type() && a.scalar_type() == b.scalar_type(),
              "graphbias: relu_select needs g, a, b of one dtype");
  const auto gc = g.contiguous(), ac = a.contiguous(), bc = b.contiguous();
  auto out = at::empty_like(ac, at::MemoryFormat::Contiguous);
  AT_DISPATCH_FLOATING_TYPES(ac.scalar_type(), "relu_select", [&] {
    const scalar_t* gp = gc.data_ptr<scalar_t>();
    const scalar_t* ap = ac.data_ptr<scalar_t>();
    const scalar_t* bp = bc.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    const scalar_t m = static_cast<scalar_t>(margin);
    for (int64_t i = 0; i < ac.numel(); ++i) {
      const scalar_t shifted = gp[i] - scalar_t(1);
      const scalar_t off = m * shifted;
      const scalar_t up = ap[i] - bp[i];
      const scalar_t down = bp[i] - ap[i];
      const scalar_t r1 = up + off;
      const scalar_t r2 = down + off;
      const scalar_t partial = bp[i] + relu(r1);
      op[i] = partial - relu(r2);
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(graphbias, CPU, m) { m.impl("relu_select", &relu_select_cpu); }

}  // namespace graphbias
