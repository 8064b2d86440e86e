// Shared helpers for the graphbias kernels: reduction kinds and argument checks.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <limits>
#include <string>
#include <vector>

// Functions called from both the CPU kernels and the CUDA kernels.
#if defined(__CUDACC__)
#define GRAPHBIAS_HOST_DEVICE __host__ __device__
#else
#define GRAPHBIAS_HOST_DEVICE
#endif

namespace graphbias {

enum class Reduce { Sum, Mean, Max, Min };

inline Reduce parse_reduce(const std::string& reduce) {
  if (reduce == "sum") return Reduce::Sum;
  if (reduce == "mean") return Reduce::Mean;
  if (reduce == "max") return Reduce::Max;
  if (reduce == "min") return Reduce::Min;
  TORCH_CHECK(false, "graphbias: reduce must be sum, mean, max or min, got '", reduce, "'");
  return Reduce::Sum;
}

constexpr bool has_arg(Reduce r) { return r == Reduce::Max || r == Reduce::Min; }

// Whether m replaces the running extreme acc of a max / min: a strictly better m, or a
// NaN m over a number. A NaN therefore propagates (as in torch.amax / amin and the
// reference path), the first NaN of a segment wins and stays, and otherwise the first
// entry reaching the extremum wins. Bitwise operators keep it branch-free, so the CPU
// loops over feature columns still vectorise (m != m is the NaN test: the kernels are
// not built with fast-math).
template <Reduce R, typename T>
GRAPHBIAS_HOST_DEVICE inline bool beats(T m, T acc) {
  const bool better = R == Reduce::Max ? m > acc : m < acc;
  return better | ((m != m) & (acc == acc));
}

inline void check_index(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.scalar_type() == at::kLong, "graphbias: ", name, " must be int64, got ",
              t.scalar_type());
  TORCH_CHECK(t.dim() == 1, "graphbias: ", name, " must be 1-D, got ", t.dim(), "-D");
}

inline void check_same_device(const at::Tensor& a, const at::Tensor& b, const char* na,
                              const char* nb) {
  TORCH_CHECK(a.device() == b.device(), "graphbias: ", na, " is on ", a.device(), " but ",
              nb, " is on ", b.device());
}

// Checks the CSR / value / x triple of spmm; returns the number of heads (0 when
// value is absent or 1-D).
inline int64_t check_spmm_args(const at::Tensor& indptr, const at::Tensor& indices,
                               const c10::optional<at::Tensor>& value, const at::Tensor& x) {
  check_index(indptr, "indptr");
  check_index(indices, "indices");
  check_same_device(indptr, indices, "indptr", "indices");
  check_same_device(indptr, x, "indptr", "x");
  TORCH_CHECK(indptr.numel() >= 1, "graphbias: indptr must not be empty");
  TORCH_CHECK(x.dim() == 2, "graphbias: x must be 2-D [num_cols, F], got ", x.dim(), "-D");
  TORCH_CHECK(x.is_floating_point(), "graphbias: x must be floating point");
  int64_t heads = 0;
  if (value.has_value() && value->defined()) {
    const auto& v = *value;
    check_same_device(indptr, v, "indptr", "value");
    TORCH_CHECK(v.scalar_type() == x.scalar_type(), "graphbias: value is ", v.scalar_type(),
                " but x is ", x.scalar_type());
    TORCH_CHECK(v.size(0) == indices.numel(), "graphbias: value has ", v.size(0),
                " entries, indices has ", indices.numel());
    TORCH_CHECK(v.dim() == 1 || v.dim() == 2, "graphbias: value must be [nnz] or [nnz, H]");
    if (v.dim() == 2) {
      heads = v.size(1);
      TORCH_CHECK(heads > 0 && x.size(1) % heads == 0, "graphbias: x has ", x.size(1),
                  " columns, not a multiple of the ", heads, " heads of value");
    }
  }
  return heads;
}

// [E, ...] viewed as [E, K]; returns K (also for E = 0).
inline int64_t inner_size(const at::Tensor& t) {
  int64_t k = 1;
  for (int64_t d = 1; d < t.dim(); ++d) k *= t.size(d);
  return k;
}

// The sizes of t with dim 0 replaced by `first`.
inline std::vector<int64_t> with_first(const at::Tensor& t, int64_t first) {
  auto sizes = t.sizes().vec();
  sizes[0] = first;
  return sizes;
}

template <typename acc_t>
inline acc_t reduce_init(Reduce r) {
  if (r == Reduce::Max) return -std::numeric_limits<acc_t>::infinity();
  if (r == Reduce::Min) return std::numeric_limits<acc_t>::infinity();
  return acc_t(0);
}

}  // namespace graphbias
