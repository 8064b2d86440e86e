// CUDA kernels of the segment reduction over CSR segments of dim 0, and of its
// backward pieces. src is viewed as [E, K].
//
// One group of G lanes (G a power of two, at most a warp) per segment; lane l owns
// the column vectors l, l + G, ... (V columns per vector: 16-byte accesses when K and
// the pointers allow it, else V = 1) and walks the segment's rows in order, so each
// output element is reduced by one thread in the order of the CPU kernels: no
// atomics, deterministic, and the same bits as the CPU.
//
// The *_split ops take a split plan (split.cuh): segments longer than its chunk are
// left by the segment kernels to one group per piece (and, for the reduction, a
// combine pass). The one-pass ops run the same kernels with the default plan, which
// splits nothing.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <string>
#include <tuple>
#include <vector>

#include "../common.h"
#include "../cpu/dispatch.h"
#include "split.cuh"
#include "utils.cuh"

namespace graphbias {
namespace {

template <typename scalar_t>
bool can_vectorise(int64_t K, const void* a, const void* b) {
  return K % max_vec<scalar_t>() == 0 && aligned16(a) && aligned16(b);
}

// Folds rows lo .. hi-1 of src into acc / best for the columns k .. k+V-1; best is
// the winning row (lo when none beats init).
template <typename scalar_t, Reduce R, int V>
__device__ __forceinline__ void segment_fold(const scalar_t* __restrict__ src, int64_t K,
                                             int64_t k, int64_t lo, int64_t hi,
                                             at::opmath_type<scalar_t> init,
                                             at::opmath_type<scalar_t> (&acc)[V],
                                             int64_t (&best)[V]) {
  using acc_t = at::opmath_type<scalar_t>;
#pragma unroll
  for (int j = 0; j < V; ++j) { acc[j] = init; best[j] = lo; }
  for (int64_t e = lo; e < hi; ++e) {
    const auto sv = load_vec<scalar_t, V>(src + e * K + k);
#pragma unroll
    for (int j = 0; j < V; ++j) fold<R>(acc[j], best[j], acc_t(sv.v[j]), e);
  }
}

// out[i, k] = reduce over rows e of segment i of src[e, k]; arg = winning row, or E;
// for the segments of at most `chunk` rows (the longer ones are split).
template <typename scalar_t, Reduce R, int V>
__global__ void segment_csr_kernel(const scalar_t* __restrict__ src,
                                   const int64_t* __restrict__ indptr,
                                   scalar_t* __restrict__ out, int64_t* __restrict__ arg,
                                   int64_t rows, int64_t K, int64_t E, int G,
                                   at::opmath_type<scalar_t> init, int64_t chunk) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= rows) return;
  const int64_t i = grp.row, lo = indptr[i], hi = indptr[i + 1];
  const int64_t count = hi - lo;
  if (count > chunk) return;
  for (int64_t k = int64_t(grp.lane) * V; k < K; k += int64_t(G) * V) {
    acc_t acc[V];
    int64_t best[V];
    segment_fold<scalar_t, R, V>(src, K, k, lo, hi, init, acc, best);
    Vec<scalar_t, V> o;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      if constexpr (R == Reduce::Mean) {
        o.v[j] = scalar_t(count > 0 ? acc[j] / acc_t(count) : acc_t(0));
      } else if constexpr (R == Reduce::Sum) {
        o.v[j] = scalar_t(acc[j]);
      } else {
        o.v[j] = count > 0 ? scalar_t(acc[j]) : scalar_t(0);
        arg[i * K + k + j] = count > 0 ? best[j] : E;
      }
    }
    store_vec(out + i * K + k, o);
  }
}

// The pieces of the split segments: partial[p, k] = the piece's raw reduction,
// partial_arg[p, k] its winning row (max / min).
template <typename scalar_t, Reduce R, int V>
__global__ void segment_csr_piece_kernel(const scalar_t* __restrict__ src,
                                         const int64_t* __restrict__ indptr,
                                         at::opmath_type<scalar_t>* __restrict__ partial,
                                         int64_t* __restrict__ partial_arg, SplitPlan plan,
                                         int64_t K, int G, at::opmath_type<scalar_t> init) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= plan.pieces) return;
  const int64_t p = grp.row;
  const Piece pc = piece_of(plan, indptr, p);
  for (int64_t k = int64_t(grp.lane) * V; k < K; k += int64_t(G) * V) {
    acc_t acc[V];
    int64_t best[V];
    segment_fold<scalar_t, R, V>(src, K, k, pc.lo, pc.hi, init, acc, best);
#pragma unroll
    for (int j = 0; j < V; ++j) {
      partial[p * K + k + j] = acc[j];
      if constexpr (has_arg(R)) partial_arg[p * K + k + j] = best[j];
    }
  }
}

// out[e, k] = src[i, k] for the rows e = lo .. hi-1 of segment i.
template <typename scalar_t, int V>
__device__ __forceinline__ void gather_range(const scalar_t* __restrict__ src,
                                             scalar_t* __restrict__ out, int64_t i, int64_t lo,
                                             int64_t hi, int64_t K, const Group& grp, int G) {
  for (int64_t k = int64_t(grp.lane) * V; k < K; k += int64_t(G) * V) {
    const auto sv = load_vec<scalar_t, V>(src + i * K + k);
    for (int64_t e = lo; e < hi; ++e) store_vec(out + e * K + k, sv);
  }
}

// gather_range over every segment of at most `chunk` rows.
template <typename scalar_t, int V>
__global__ void gather_csr_kernel(const scalar_t* __restrict__ src,
                                  const int64_t* __restrict__ indptr,
                                  scalar_t* __restrict__ out, int64_t rows, int64_t K, int G,
                                  int64_t chunk) {
  const Group grp(G);
  if (grp.row >= rows) return;
  const int64_t i = grp.row, lo = indptr[i], hi = indptr[i + 1];
  if (hi - lo > chunk) return;
  gather_range<scalar_t, V>(src, out, i, lo, hi, K, grp, G);
}

// gather_range over every piece of the split segments (no combine pass: each row of
// out is written once).
template <typename scalar_t, int V>
__global__ void gather_csr_piece_kernel(const scalar_t* __restrict__ src,
                                        const int64_t* __restrict__ indptr,
                                        scalar_t* __restrict__ out, SplitPlan plan, int64_t K,
                                        int G) {
  const Group grp(G);
  if (grp.row >= plan.pieces) return;
  const Piece pc = piece_of(plan, indptr, grp.row);
  gather_range<scalar_t, V>(src, out, pc.row, pc.lo, pc.hi, K, grp, G);
}

// out[arg[i, k], k] = grad_out[i, k], one thread per element of grad_out; each src
// row belongs to one segment, so writes never collide. out is zero-filled.
template <typename scalar_t>
__global__ void segment_arg_bw_kernel(const scalar_t* __restrict__ grad_out,
                                      const int64_t* __restrict__ arg,
                                      scalar_t* __restrict__ out, int64_t n, int64_t K,
                                      int64_t size) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= n) return;
  const int64_t e = arg[t];
  if (e >= 0 && e < size) out[e * K + t % K] = grad_out[t];
}

std::tuple<at::Tensor, at::Tensor> segment_csr_fw_impl(const at::Tensor& src,
                                                       const at::Tensor& indptr,
                                                       c10::string_view reduce,
                                                       const SplitPlan& plan) {
  check_index(indptr, "indptr");
  check_same_device(src, indptr, "src", "indptr");
  TORCH_CHECK(src.dim() >= 1 && src.is_floating_point(), "graphbias: src must be a float tensor");
  TORCH_CHECK(indptr.numel() >= 1, "graphbias: indptr must not be empty");
  const Reduce r = parse_reduce(std::string(reduce));
  const c10::cuda::CUDAGuard guard(src.device());
  const auto s = src.contiguous(), ip = indptr.contiguous();
  const int64_t rows = ip.numel() - 1, K = inner_size(s), E = s.size(0);
  auto out = at::empty(with_first(s, rows), s.options());
  auto arg = has_arg(r) ? at::empty(with_first(s, rows), ip.options()) : at::empty({0}, ip.options());
  if (rows == 0 || K == 0) return {out, arg};
  const Partials partials(plan, K, s, has_arg(r));
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, s.scalar_type(), "segment_csr_fw_cuda", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const bool vec = can_vectorise<scalar_t>(K, s.data_ptr(), out.data_ptr());
    dispatch_reduce(r, [&](auto tag) {
      constexpr Reduce R = decltype(tag)::value;
      int64_t* a = has_arg(R) ? arg.data_ptr<int64_t>() : nullptr;
      dispatch_vec<scalar_t>(vec, [&](auto vtag) {
        constexpr int V = decltype(vtag)::value;
        const int G = group_size(K / V);
        segment_csr_kernel<scalar_t, R, V><<<num_blocks(rows * G), kBlock, 0, stream>>>(
            s.data_ptr<scalar_t>(), ip.data_ptr<int64_t>(), out.data_ptr<scalar_t>(), a, rows,
            K, E, G, reduce_init<acc_t>(R), plan.chunk);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
        if (plan.pieces == 0) return;
        segment_csr_piece_kernel<scalar_t, R, V>
            <<<num_blocks(plan.pieces * G), kBlock, 0, stream>>>(
                s.data_ptr<scalar_t>(), ip.data_ptr<int64_t>(), partials.value.data_ptr<acc_t>(),
                has_arg(R) ? partials.arg.data_ptr<int64_t>() : nullptr, plan, K, G,
                reduce_init<acc_t>(R));
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      });
      combine<scalar_t, R>(partials, ip.data_ptr<int64_t>(), plan, out.data_ptr<scalar_t>(), a,
                           K, stream);
    });
  });
  return {out, arg};
}

at::Tensor gather_csr_impl(const at::Tensor& src, const at::Tensor& indptr, int64_t size,
                           const SplitPlan& plan) {
  check_index(indptr, "indptr");
  check_same_device(src, indptr, "src", "indptr");
  TORCH_CHECK(src.dim() >= 1, "graphbias: src must have a first dimension");
  TORCH_CHECK(size >= 0, "graphbias: size must not be negative");
  const c10::cuda::CUDAGuard guard(src.device());
  const auto s = src.contiguous(), ip = indptr.contiguous();
  const int64_t rows = ip.numel() - 1, K = inner_size(s);
  TORCH_CHECK(s.size(0) == rows, "graphbias: src has ", s.size(0), " rows, indptr ", rows);
  auto out = at::empty(with_first(s, size), s.options());
  if (rows == 0 || K == 0 || size == 0) return out;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, s.scalar_type(), "gather_csr_cuda", [&] {
    const bool vec = can_vectorise<scalar_t>(K, s.data_ptr(), out.data_ptr());
    dispatch_vec<scalar_t>(vec, [&](auto vtag) {
      constexpr int V = decltype(vtag)::value;
      const int G = group_size(K / V);
      gather_csr_kernel<scalar_t, V><<<num_blocks(rows * G), kBlock, 0, stream>>>(
          s.data_ptr<scalar_t>(), ip.data_ptr<int64_t>(), out.data_ptr<scalar_t>(), rows, K, G,
          plan.chunk);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
      if (plan.pieces == 0) return;
      gather_csr_piece_kernel<scalar_t, V><<<num_blocks(plan.pieces * G), kBlock, 0, stream>>>(
          s.data_ptr<scalar_t>(), ip.data_ptr<int64_t>(), out.data_ptr<scalar_t>(), plan, K, G);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
  return out;
}

at::Tensor segment_arg_bw_cuda(const at::Tensor& grad_out, const at::Tensor& arg, int64_t size) {
  TORCH_CHECK(arg.scalar_type() == at::kLong && arg.sizes() == grad_out.sizes(),
              "graphbias: arg must be int64 and shaped like grad_out");
  TORCH_CHECK(grad_out.dim() >= 1, "graphbias: grad_out must have a first dimension");
  check_same_device(grad_out, arg, "grad_out", "arg");
  const c10::cuda::CUDAGuard guard(grad_out.device());
  const auto g = grad_out.contiguous(), a = arg.contiguous();
  const int64_t K = inner_size(g), n = g.numel();
  auto out = at::zeros(with_first(g, size), g.options());
  if (n == 0 || size == 0) return out;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, g.scalar_type(), "segment_arg_bw_cuda", [&] {
    segment_arg_bw_kernel<scalar_t><<<num_blocks(n), kBlock, 0, stream>>>(
        g.data_ptr<scalar_t>(), a.data_ptr<int64_t>(), out.data_ptr<scalar_t>(), n, K, size);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

// The one-pass ops: the default plan splits no segment.
std::tuple<at::Tensor, at::Tensor> segment_csr_fw_cuda(const at::Tensor& src,
                                                       const at::Tensor& indptr,
                                                       c10::string_view reduce) {
  return segment_csr_fw_impl(src, indptr, reduce, SplitPlan{});
}

at::Tensor gather_csr_cuda(const at::Tensor& src, const at::Tensor& indptr, int64_t size) {
  return gather_csr_impl(src, indptr, size, SplitPlan{});
}

// The split ops: the one-pass arguments, then the plan of plan_rows(indptr).
std::tuple<at::Tensor, at::Tensor> segment_csr_fw_split_cuda(
    const at::Tensor& src, const at::Tensor& indptr, c10::string_view reduce, int64_t chunk,
    const at::Tensor& split_row, const at::Tensor& split_ptr, const at::Tensor& piece_split) {
  return segment_csr_fw_impl(src, indptr, reduce,
                             split_plan(chunk, split_row, split_ptr, piece_split, indptr));
}

at::Tensor gather_csr_split_cuda(const at::Tensor& src, const at::Tensor& indptr, int64_t size,
                                 int64_t chunk, const at::Tensor& split_row,
                                 const at::Tensor& split_ptr, const at::Tensor& piece_split) {
  return gather_csr_impl(src, indptr, size,
                         split_plan(chunk, split_row, split_ptr, piece_split, indptr));
}

}  // namespace

// Schemas of the split ops: CUDA only, so they are defined with their kernels.
TORCH_LIBRARY_FRAGMENT(graphbias, m) {
  m.def("_segment_csr_fw_split(Tensor src, Tensor indptr, str reduce, int chunk, "
        "Tensor split_row, Tensor split_ptr, Tensor piece_split) -> (Tensor, Tensor)");
  m.def("_gather_csr_split(Tensor src, Tensor indptr, int size, int chunk, Tensor split_row, "
        "Tensor split_ptr, Tensor piece_split) -> Tensor");
}

TORCH_LIBRARY_IMPL(graphbias, CUDA, m) {
  m.impl("_segment_csr_fw", &segment_csr_fw_cuda);
  m.impl("_gather_csr", &gather_csr_cuda);
  m.impl("_segment_arg_bw", &segment_arg_bw_cuda);
  m.impl("_segment_csr_fw_split", &segment_csr_fw_split_cuda);
  m.impl("_gather_csr_split", &gather_csr_split_cuda);
}

}  // namespace graphbias
