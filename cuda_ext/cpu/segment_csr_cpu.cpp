// CPU kernels of the segment reduction over CSR segments of dim 0, and of its
// backward pieces. Parallel over segments; deterministic.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <string>
#include <tuple>
#include <vector>

#include "../common.h"
#include "dispatch.h"
#include "partition.h"

namespace graphbias {
namespace {

std::tuple<at::Tensor, at::Tensor> segment_csr_fw_cpu(const at::Tensor& src,
                                                      const at::Tensor& indptr,
                                                      c10::string_view reduce) {
  check_index(indptr, "indptr");
  check_same_device(src, indptr, "src", "indptr");
  TORCH_CHECK(src.dim() >= 1 && src.is_floating_point(), "graphbias: src must be a float tensor");
  TORCH_CHECK(indptr.numel() >= 1, "graphbias: indptr must not be empty");
  const Reduce r = parse_reduce(std::string(reduce));
  const auto s = src.contiguous(), ip = indptr.contiguous();
  const int64_t rows = ip.numel() - 1, K = inner_size(s), E = s.size(0);
  TORCH_CHECK(ip.data_ptr<int64_t>()[rows] == E, "graphbias: indptr ends at ",
              ip.data_ptr<int64_t>()[rows], " but src has ", E, " rows");
  auto out = at::empty(with_first(s, rows), s.options());
  auto arg = has_arg(r) ? at::empty(with_first(s, rows), ip.options()) : at::empty({0}, ip.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, s.scalar_type(), "segment_csr_fw", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const int64_t* p = ip.data_ptr<int64_t>();
    const scalar_t* sp = s.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    int64_t* argp = has_arg(r) ? arg.data_ptr<int64_t>() : nullptr;
    dispatch_reduce(r, [&](auto tag) {
      constexpr Reduce R = decltype(tag)::value;
      parallel_rows(p, rows, K, [&](int64_t begin, int64_t end) {
        std::vector<acc_t> acc(K);
        std::vector<int32_t> best(K);
        for (int64_t i = begin; i < end; ++i) {
          std::fill(acc.begin(), acc.end(), reduce_init<acc_t>(R));
          std::fill(best.begin(), best.end(), 0);
          for (int64_t e = p[i]; e < p[i + 1]; ++e)
            for (int64_t k = 0; k < K; ++k)
              accumulate<R>(acc[k], best[k], acc_t(sp[e * K + k]), int32_t(e - p[i]));
          const int64_t count = p[i + 1] - p[i];
          for (int64_t k = 0; k < K; ++k) {
            if constexpr (R == Reduce::Mean) {
              op[i * K + k] = scalar_t(count > 0 ? acc[k] / acc_t(count) : acc_t(0));
            } else if constexpr (R == Reduce::Sum) {
              op[i * K + k] = scalar_t(acc[k]);
            } else {
              op[i * K + k] = count > 0 ? scalar_t(acc[k]) : scalar_t(0);
              argp[i * K + k] = count > 0 ? p[i] + best[k] : E;
            }
          }
        }
      });
    });
  });
  return {out, arg};
}

// out[e] = src[i] for every e in segment i (the backward of sum).
at::Tensor gather_csr_cpu(const at::Tensor& src, const at::Tensor& indptr, int64_t size) {
  check_index(indptr, "indptr");
  const auto s = src.contiguous(), ip = indptr.contiguous();
  const int64_t rows = ip.numel() - 1, K = inner_size(s);
  TORCH_CHECK(s.size(0) == rows, "graphbias: src has ", s.size(0), " rows, indptr ", rows);
  TORCH_CHECK(ip.data_ptr<int64_t>()[rows] == size, "graphbias: indptr does not end at size");
  auto out = at::empty(with_first(s, size), s.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, s.scalar_type(), "gather_csr", [&] {
    const int64_t* p = ip.data_ptr<int64_t>();
    const scalar_t* sp = s.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    parallel_rows(p, rows, K, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        for (int64_t e = p[i]; e < p[i + 1]; ++e)
          std::copy(sp + i * K, sp + (i + 1) * K, op + e * K);
    });
  });
  return out;
}

// grad_src[arg[i, k], k] = grad_out[i, k]: each src row belongs to one segment, so
// writes never collide.
at::Tensor segment_arg_bw_cpu(const at::Tensor& grad_out, const at::Tensor& arg, int64_t size) {
  TORCH_CHECK(arg.scalar_type() == at::kLong && arg.sizes() == grad_out.sizes(),
              "graphbias: arg must be int64 and shaped like grad_out");
  const auto g = grad_out.contiguous(), a = arg.contiguous();
  const int64_t rows = g.size(0), K = inner_size(g);
  auto out = at::zeros(with_first(g, size), g.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, g.scalar_type(), "segment_arg_bw", [&] {
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const int64_t* ap = a.data_ptr<int64_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    at::parallel_for(0, rows, 1024, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        for (int64_t k = 0; k < K; ++k) {
          const int64_t e = ap[i * K + k];
          if (e >= 0 && e < size) op[e * K + k] = gp[i * K + k];
        }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(graphbias, CPU, m) {
  m.impl("_segment_csr_fw", &segment_csr_fw_cpu);
  m.impl("_gather_csr", &gather_csr_cpu);
  m.impl("_segment_arg_bw", &segment_arg_bw_cpu);
}

}  // namespace graphbias
