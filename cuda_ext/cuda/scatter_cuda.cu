// CUDA-only atomic COO scatter: out[index[e], k] = reduce over e of src[e, k], with
// src viewed as [E, K] and index [E] in any order.
//
// NOT DETERMINISTIC: one thread per element of src, each folding its value into the
// output slot with an atomic. For sum and mean the atomicAdds land in whatever order
// the threads arrive, so the floating-point addition order, and with it the last
// bits of sum / mean, can change from run to run. Use segment_csr / spmm on sorted
// CSR input for reproducible results.
// max / min use a compare-and-swap loop on the value's bit pattern; a value replaces
// the slot's when beats() says so (strictly better, or a NaN over a number), as in
// segment_csr: a NaN propagates and, once stored, is never replaced. They equal
// segment_csr on the sorted input and do not depend on the order (but for the sign
// of a zero tied with another zero, and the payload of a NaN). Empty slots give 0.
// half / bfloat16 accumulate in a float buffer (at::opmath_type) and are cast at the
// end. Entries whose index lies outside [0, dim_size) are skipped (the Python front
// end rejects them), so no thread writes out of bounds.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <limits>
#include <string>
#include <vector>

#include "../common.h"
#include "../cpu/dispatch.h"
#include "utils.cuh"

namespace graphbias {
namespace {

template <Reduce R>
__device__ void atomic_extreme(float* addr, float v) {
  auto* bits = reinterpret_cast<unsigned int*>(addr);
  unsigned int old = *bits;
  while (beats<R>(v, __uint_as_float(old))) {
    const unsigned int prev = atomicCAS(bits, old, __float_as_uint(v));
    if (prev == old) return;
    old = prev;
  }
}

template <Reduce R>
__device__ void atomic_extreme(double* addr, double v) {
  auto* bits = reinterpret_cast<unsigned long long*>(addr);
  unsigned long long old = *bits;
  while (beats<R>(v, __longlong_as_double(static_cast<long long>(old)))) {
    const unsigned long long prev =
        atomicCAS(bits, old, static_cast<unsigned long long>(__double_as_longlong(v)));
    if (prev == old) return;
    old = prev;
  }
}

// One thread per element of src: fold src[e, k] into acc[index[e], k]; the thread of
// column 0 also counts the entry (for mean, and to find empty slots of max / min).
template <typename scalar_t, typename acc_t, Reduce R>
__global__ void scatter_kernel(const scalar_t* __restrict__ src, const int64_t* __restrict__ index,
                               acc_t* __restrict__ acc, int* __restrict__ count, int64_t n,
                               int64_t K, int64_t dim_size) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= n) return;
  const int64_t e = t / K, k = t % K, slot = index[e];
  if (slot < 0 || slot >= dim_size) return;
  const acc_t v = acc_t(src[t]);
  if constexpr (R == Reduce::Sum || R == Reduce::Mean) {
    atomicAdd(acc + slot * K + k, v);
  } else {
    atomic_extreme<R>(acc + slot * K + k, v);
  }
  if (count && k == 0) atomicAdd(count + slot, 1);
}

// out = acc (sum), acc / count (mean), acc or 0 for empty slots (max / min), cast to
// scalar_t; out may alias acc.
template <typename scalar_t, typename acc_t, Reduce R>
__global__ void finalize_kernel(const acc_t* acc, const int* __restrict__ count, scalar_t* out,
                                int64_t n, int64_t K) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= n) return;
  if constexpr (R == Reduce::Sum) {
    out[t] = scalar_t(acc[t]);
  } else {
    const int c = count[t / K];
    if constexpr (R == Reduce::Mean) {
      out[t] = c > 0 ? scalar_t(acc[t] / acc_t(c)) : scalar_t(0);
    } else {
      out[t] = c > 0 ? scalar_t(acc[t]) : scalar_t(0);
    }
  }
}

at::Tensor scatter_coo_atomic_cuda(const at::Tensor& src, const at::Tensor& index,
                                   int64_t dim_size, c10::string_view reduce) {
  check_index(index, "index");
  check_same_device(src, index, "src", "index");
  TORCH_CHECK(src.dim() >= 1 && src.is_floating_point(), "graphbias: src must be a float tensor");
  TORCH_CHECK(index.numel() == src.size(0), "graphbias: index has ", index.numel(),
              " entries, src has ", src.size(0), " rows");
  TORCH_CHECK(src.size(0) <= std::numeric_limits<int>::max(),
              "graphbias: too many entries for the int counters");
  TORCH_CHECK(dim_size >= 0, "graphbias: dim_size must not be negative");
  const Reduce r = parse_reduce(std::string(reduce));
  const c10::cuda::CUDAGuard guard(src.device());
  const auto s = src.contiguous(), ix = index.contiguous();
  std::vector<int64_t> shape = s.sizes().vec();
  const int64_t E = shape[0];
  int64_t K = 1;
  for (size_t d = 1; d < shape.size(); ++d) K *= shape[d];
  shape[0] = dim_size;
  const auto acc_type = at::toOpMathType(s.scalar_type());
  const bool same = acc_type == s.scalar_type();
  auto acc = at::full(shape, reduce_init<double>(r), s.options().dtype(acc_type));
  auto out = same ? acc : at::empty(shape, s.options());
  if (dim_size == 0 || K == 0) return out;
  auto count = r == Reduce::Sum ? at::Tensor() : at::zeros({dim_size}, ix.options().dtype(at::kInt));
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, s.scalar_type(), "scatter_coo_atomic_cuda", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    int* cp = count.defined() ? count.data_ptr<int>() : nullptr;
    dispatch_reduce(r, [&](auto tag) {
      constexpr Reduce R = decltype(tag)::value;
      const int64_t n = E * K, m = dim_size * K;
      if (n > 0) {
        scatter_kernel<scalar_t, acc_t, R><<<num_blocks(n), kBlock, 0, stream>>>(
            s.data_ptr<scalar_t>(), ix.data_ptr<int64_t>(), acc.data_ptr<acc_t>(), cp, n, K,
            dim_size);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      }
      if (R != Reduce::Sum || !same) {
        finalize_kernel<scalar_t, acc_t, R><<<num_blocks(m), kBlock, 0, stream>>>(
            acc.data_ptr<acc_t>(), cp, out.data_ptr<scalar_t>(), m, K);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(graphbias, CUDA, m) { m.impl("_scatter_coo_atomic", &scatter_coo_atomic_cuda); }

}  // namespace graphbias
