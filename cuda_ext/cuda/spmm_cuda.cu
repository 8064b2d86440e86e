// CUDA kernels of the fused sparse x dense product and its backward pieces.
//
// One group of G lanes (G a power of two, at most a warp) per CSR row; lane l owns
// the column vectors l, l + G, l + 2G, ... of the row (V columns per vector: 16-byte
// accesses when the head width and the pointers allow it, else V = 1). Each lane
// walks the row's entries in CSR order and accumulates in at::opmath_type, so every
// output element is reduced by one thread in the order of the CPU kernels: no
// atomics, deterministic, and (products never fused into FMAs) the same bits as the
// CPU for _spmm_fw and _spmm_arg_bw. _spmm_value_bw sums each entry's dot product
// with a fixed shuffle tree: deterministic, but rounded differently from the CPU's
// sequential sum.
//
// The *_split ops take a split plan (split.cuh): rows longer than its chunk are left
// by the row kernels to one group per piece (and, for the reductions, a combine pass),
// so a hub row no longer serialises a whole kernel on one group. The one-pass ops
// run the same kernels with the default plan, which splits nothing.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <string>
#include <tuple>

#include "../common.h"
#include "../cpu/dispatch.h"
#include "split.cuh"
#include "utils.cuh"

namespace graphbias {
namespace {

// Folds entries lo .. hi-1 into acc / best for the columns f .. f+V-1 (head h):
// acc = reduce over e of value[e, h] * x[indices[e], f + j], best the winning e
// (lo when none beats init).
template <typename scalar_t, Reduce R, int V>
__device__ __forceinline__ void spmm_fold(const int64_t* __restrict__ indices,
                                          const scalar_t* __restrict__ value, int64_t H,
                                          int64_t h, const scalar_t* __restrict__ x,
                                          int64_t F, int64_t f, int64_t lo, int64_t hi,
                                          at::opmath_type<scalar_t> init,
                                          at::opmath_type<scalar_t> (&acc)[V],
                                          int64_t (&best)[V]) {
  using acc_t = at::opmath_type<scalar_t>;
#pragma unroll
  for (int j = 0; j < V; ++j) { acc[j] = init; best[j] = lo; }
  for (int64_t e = lo; e < hi; ++e) {
    const acc_t v = value ? acc_t(value[e * H + h]) : acc_t(1);
    const auto xv = load_vec<scalar_t, V>(x + indices[e] * F + f);
#pragma unroll
    for (int j = 0; j < V; ++j) fold<R>(acc[j], best[j], mul_rn(v, acc_t(xv.v[j])), e);
  }
}

// out[i, f] = reduce over entries e of row i of value[e, head(f)] * x[indices[e], f],
// for the rows of at most `chunk` entries (the longer ones are split).
template <typename scalar_t, Reduce R, int V>
__global__ void spmm_fw_kernel(const int64_t* __restrict__ indptr,
                               const int64_t* __restrict__ indices,
                               const scalar_t* __restrict__ value, int64_t H,
                               const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                               int64_t* __restrict__ arg, int64_t rows, int64_t F, int G,
                               at::opmath_type<scalar_t> init, int64_t chunk) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= rows) return;
  const int64_t i = grp.row, lo = indptr[i], hi = indptr[i + 1], C = F / H;
  const int64_t deg = hi - lo;
  if (deg > chunk) return;
  for (int64_t f = int64_t(grp.lane) * V; f < F; f += int64_t(G) * V) {
    acc_t acc[V];
    int64_t best[V];
    spmm_fold<scalar_t, R, V>(indices, value, H, f / C, x, F, f, lo, hi, init, acc, best);
    Vec<scalar_t, V> o;
    if constexpr (R == Reduce::Mean) {
      const acc_t scale = deg > 0 ? acc_t(1) / acc_t(deg) : acc_t(0);
#pragma unroll
      for (int j = 0; j < V; ++j) o.v[j] = scalar_t(acc[j] * scale);
    } else if constexpr (R == Reduce::Sum) {
#pragma unroll
      for (int j = 0; j < V; ++j) o.v[j] = scalar_t(acc[j]);
    } else {
      const int64_t nnz = indptr[rows];
#pragma unroll
      for (int j = 0; j < V; ++j) {
        o.v[j] = deg > 0 ? scalar_t(acc[j]) : scalar_t(0);
        arg[i * F + f + j] = deg > 0 ? best[j] : nnz;
      }
    }
    store_vec(out + i * F + f, o);
  }
}

// The pieces of the split rows: partial[p, f] = the piece's raw reduction (no mean
// scaling), partial_arg[p, f] its winning entry (max / min).
template <typename scalar_t, Reduce R, int V>
__global__ void spmm_fw_piece_kernel(const int64_t* __restrict__ indptr,
                                     const int64_t* __restrict__ indices,
                                     const scalar_t* __restrict__ value, int64_t H,
                                     const scalar_t* __restrict__ x,
                                     at::opmath_type<scalar_t>* __restrict__ partial,
                                     int64_t* __restrict__ partial_arg, SplitPlan plan,
                                     int64_t F, int G, at::opmath_type<scalar_t> init) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= plan.pieces) return;
  const int64_t p = grp.row, C = F / H;
  const Piece pc = piece_of(plan, indptr, p);
  for (int64_t f = int64_t(grp.lane) * V; f < F; f += int64_t(G) * V) {
    acc_t acc[V];
    int64_t best[V];
    spmm_fold<scalar_t, R, V>(indices, value, H, f / C, x, F, f, pc.lo, pc.hi, init, acc, best);
#pragma unroll
    for (int j = 0; j < V; ++j) {
      partial[p * F + f + j] = acc[j];
      if constexpr (has_arg(R)) partial_arg[p * F + f + j] = best[j];
    }
  }
}

// out[e, h] = scale * sum over columns c of head h (won by e, for max / min) of
// grad_out[i, c] * x[indices[e], c], for the entries lo .. hi-1 of row i. Lanes split
// the head's columns; one shuffle reduction per entry and head.
template <typename scalar_t>
__device__ __forceinline__ void spmm_value_bw_range(
    const int64_t* __restrict__ indices, const scalar_t* __restrict__ x,
    const scalar_t* __restrict__ grad_out, const int64_t* __restrict__ arg,
    scalar_t* __restrict__ out, int64_t i, int64_t lo, int64_t hi, int64_t F, int64_t H,
    at::opmath_type<scalar_t> scale, const Group& grp, int G) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t C = F / H;
  const scalar_t* gr = grad_out + i * F;
  const int64_t* arow = arg ? arg + i * F : nullptr;
  for (int64_t e = lo; e < hi; ++e) {
    const scalar_t* xr = x + indices[e] * F;
    for (int64_t h = 0; h < H; ++h) {
      acc_t s = 0;
      for (int64_t c = h * C + grp.lane; c < (h + 1) * C; c += G)
        if (!arow || arow[c] == e) s += mul_rn(acc_t(gr[c]), acc_t(xr[c]));
      s = group_sum(s, G, grp.mask);
      if (grp.lane == 0) out[e * H + h] = scalar_t(s * scale);
    }
  }
}

// The row's scale: 1 / entries for mean (1 for an empty row), else 1.
template <typename acc_t>
__device__ __forceinline__ acc_t value_bw_scale(const int64_t* indptr, int64_t i, bool mean) {
  const int64_t deg = indptr[i + 1] - indptr[i];
  return mean ? acc_t(1) / acc_t(deg > 1 ? deg : 1) : acc_t(1);
}

// spmm_value_bw_range over each row of at most `chunk` entries.
template <typename scalar_t>
__global__ void spmm_value_bw_kernel(const int64_t* __restrict__ indptr,
                                     const int64_t* __restrict__ indices,
                                     const scalar_t* __restrict__ x,
                                     const scalar_t* __restrict__ grad_out,
                                     const int64_t* __restrict__ arg, scalar_t* __restrict__ out,
                                     int64_t rows, int64_t F, int64_t H, bool mean, int G,
                                     int64_t chunk) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= rows) return;
  const int64_t i = grp.row, lo = indptr[i], hi = indptr[i + 1];
  if (hi - lo > chunk) return;
  spmm_value_bw_range(indices, x, grad_out, arg, out, i, lo, hi, F, H,
                      value_bw_scale<acc_t>(indptr, i, mean), grp, G);
}

// spmm_value_bw_range over each piece of the split rows (every entry's gradient is
// its own: no combine pass).
template <typename scalar_t>
__global__ void spmm_value_bw_piece_kernel(const int64_t* __restrict__ indptr,
                                           const int64_t* __restrict__ indices,
                                           const scalar_t* __restrict__ x,
                                           const scalar_t* __restrict__ grad_out,
                                           const int64_t* __restrict__ arg,
                                           scalar_t* __restrict__ out, SplitPlan plan,
                                           int64_t F, int64_t H, bool mean, int G) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= plan.pieces) return;
  const Piece pc = piece_of(plan, indptr, grp.row);
  spmm_value_bw_range(indices, x, grad_out, arg, out, pc.row, pc.lo, pc.hi, F, H,
                      value_bw_scale<acc_t>(indptr, pc.row, mean), grp, G);
}

// Max / min backward for x, gathering over the entries lo .. hi-1 of transpose row j
// (a column of the original matrix), in row order, for the columns f .. f+V-1:
// acc = sum over entries e = (i, j) with arg[i, f] == e of value[e] * grad_out[i, f].
// Like the CPU kernel, which adds into the output tensor, each addition is rounded
// to scalar_t (a no-op for float and double), so the bits agree for half types too.
template <typename scalar_t, int V>
__device__ __forceinline__ void spmm_arg_bw_fold(const int64_t* __restrict__ recv,
                                                 const int64_t* __restrict__ pos,
                                                 const scalar_t* __restrict__ value, int64_t H,
                                                 int64_t h, const int64_t* __restrict__ arg,
                                                 const scalar_t* __restrict__ grad_out,
                                                 int64_t F, int64_t f, int64_t lo, int64_t hi,
                                                 at::opmath_type<scalar_t> (&acc)[V]) {
  using acc_t = at::opmath_type<scalar_t>;
#pragma unroll
  for (int q = 0; q < V; ++q) acc[q] = acc_t(0);
  for (int64_t k = lo; k < hi; ++k) {
    const int64_t e = pos[k], i = recv[k];
    const acc_t v = value ? acc_t(value[e * H + h]) : acc_t(1);
    const auto gv = load_vec<scalar_t, V>(grad_out + i * F + f);
    const int64_t* arow = arg + i * F + f;
#pragma unroll
    for (int q = 0; q < V; ++q)
      if (arow[q] == e) acc[q] = acc_t(scalar_t(acc[q] + mul_rn(v, acc_t(gv.v[q]))));
  }
}

// out[j, f] = spmm_arg_bw_fold over transpose row j, one group per transpose row of
// at most `chunk` entries.
template <typename scalar_t, int V>
__global__ void spmm_arg_bw_kernel(const int64_t* __restrict__ indptr_t,
                                   const int64_t* __restrict__ recv,
                                   const int64_t* __restrict__ pos,
                                   const scalar_t* __restrict__ value, int64_t H,
                                   const int64_t* __restrict__ arg,
                                   const scalar_t* __restrict__ grad_out,
                                   scalar_t* __restrict__ out, int64_t cols, int64_t F, int G,
                                   int64_t chunk) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= cols) return;
  const int64_t j = grp.row, lo = indptr_t[j], hi = indptr_t[j + 1], C = F / H;
  if (hi - lo > chunk) return;
  for (int64_t f = int64_t(grp.lane) * V; f < F; f += int64_t(G) * V) {
    acc_t acc[V];
    spmm_arg_bw_fold<scalar_t, V>(recv, pos, value, H, f / C, arg, grad_out, F, f, lo, hi, acc);
    Vec<scalar_t, V> o;
#pragma unroll
    for (int q = 0; q < V; ++q) o.v[q] = scalar_t(acc[q]);
    store_vec(out + j * F + f, o);
  }
}

// partial[p, f] = spmm_arg_bw_fold over piece p of the split transpose rows.
template <typename scalar_t, int V>
__global__ void spmm_arg_bw_piece_kernel(const int64_t* __restrict__ indptr_t,
                                         const int64_t* __restrict__ recv,
                                         const int64_t* __restrict__ pos,
                                         const scalar_t* __restrict__ value, int64_t H,
                                         const int64_t* __restrict__ arg,
                                         const scalar_t* __restrict__ grad_out,
                                         at::opmath_type<scalar_t>* __restrict__ partial,
                                         SplitPlan plan, int64_t F, int G) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= plan.pieces) return;
  const int64_t p = grp.row, C = F / H;
  const Piece pc = piece_of(plan, indptr_t, p);
  for (int64_t f = int64_t(grp.lane) * V; f < F; f += int64_t(G) * V) {
    acc_t acc[V];
    spmm_arg_bw_fold<scalar_t, V>(recv, pos, value, H, f / C, arg, grad_out, F, f, pc.lo, pc.hi,
                                  acc);
#pragma unroll
    for (int q = 0; q < V; ++q) partial[p * F + f + q] = acc[q];
  }
}

// 16-byte vectors need the head width to be a multiple of the vector and aligned rows.
template <typename scalar_t>
bool can_vectorise(int64_t C, const void* a, const void* b) {
  return C % max_vec<scalar_t>() == 0 && aligned16(a) && aligned16(b);
}

std::tuple<at::Tensor, at::Tensor> spmm_fw_impl(const at::Tensor& indptr,
                                                const at::Tensor& indices,
                                                const c10::optional<at::Tensor>& value,
                                                const at::Tensor& x, c10::string_view reduce,
                                                const SplitPlan& plan) {
  const int64_t heads = check_spmm_args(indptr, indices, value, x);
  const Reduce r = parse_reduce(std::string(reduce));
  const c10::cuda::CUDAGuard guard(x.device());
  const auto ip = indptr.contiguous(), ix = indices.contiguous(), xc = x.contiguous();
  const auto vc = (value.has_value() && value->defined()) ? value->contiguous() : at::Tensor();
  const int64_t rows = ip.numel() - 1, F = xc.size(1), H = heads > 0 ? heads : 1;
  auto out = at::empty({rows, F}, xc.options());
  auto arg = at::empty({has_arg(r) ? rows : 0, has_arg(r) ? F : 0}, ip.options());
  if (rows == 0 || F == 0) return {out, arg};
  const Partials partials(plan, F, xc, has_arg(r));
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, xc.scalar_type(), "spmm_fw_cuda", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const bool vec = can_vectorise<scalar_t>(F / H, xc.data_ptr(), out.data_ptr());
    const scalar_t* v = vc.defined() ? vc.data_ptr<scalar_t>() : nullptr;
    dispatch_reduce(r, [&](auto tag) {
      constexpr Reduce R = decltype(tag)::value;
      int64_t* a = has_arg(R) ? arg.data_ptr<int64_t>() : nullptr;
      dispatch_vec<scalar_t>(vec, [&](auto vtag) {
        constexpr int V = decltype(vtag)::value;
        const int G = group_size(F / V);
        spmm_fw_kernel<scalar_t, R, V><<<num_blocks(rows * G), kBlock, 0, stream>>>(
            ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(), v, H, xc.data_ptr<scalar_t>(),
            out.data_ptr<scalar_t>(), a, rows, F, G, reduce_init<acc_t>(R), plan.chunk);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
        if (plan.pieces == 0) return;
        spmm_fw_piece_kernel<scalar_t, R, V><<<num_blocks(plan.pieces * G), kBlock, 0, stream>>>(
            ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(), v, H, xc.data_ptr<scalar_t>(),
            partials.value.data_ptr<acc_t>(),
            has_arg(R) ? partials.arg.data_ptr<int64_t>() : nullptr, plan, F, G,
            reduce_init<acc_t>(R));
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      });
      combine<scalar_t, R>(partials, ip.data_ptr<int64_t>(), plan, out.data_ptr<scalar_t>(), a,
                           F, stream);
    });
  });
  return {out, arg};
}

at::Tensor spmm_value_bw_impl(const at::Tensor& indptr, const at::Tensor& indices,
                              const at::Tensor& x, const at::Tensor& grad_out,
                              const c10::optional<at::Tensor>& arg, c10::string_view reduce,
                              int64_t heads, const SplitPlan& plan) {
  check_spmm_args(indptr, indices, c10::nullopt, x);
  check_same_device(x, grad_out, "x", "grad_out");
  const Reduce r = parse_reduce(std::string(reduce));
  const c10::cuda::CUDAGuard guard(x.device());
  const auto ip = indptr.contiguous(), ix = indices.contiguous(), xc = x.contiguous();
  const auto g = grad_out.contiguous();
  const int64_t rows = ip.numel() - 1, F = xc.size(1), H = heads > 0 ? heads : 1;
  TORCH_CHECK(g.dim() == 2 && g.size(0) == rows && g.size(1) == F,
              "graphbias: grad_out must be [", rows, ", ", F, "]");
  TORCH_CHECK(g.scalar_type() == xc.scalar_type(), "graphbias: grad_out is ", g.scalar_type(),
              " but x is ", xc.scalar_type());
  TORCH_CHECK(F % H == 0, "graphbias: heads must divide the feature width");
  at::Tensor a;
  if (has_arg(r)) {
    TORCH_CHECK(arg.has_value() && arg->sizes() == g.sizes(), "graphbias: max / min need arg");
    check_same_device(x, *arg, "x", "arg");
    TORCH_CHECK(arg->scalar_type() == at::kLong, "graphbias: arg must be int64");
    a = arg->contiguous();
  }
  const int64_t nnz = ix.numel();
  auto out = heads > 0 ? at::empty({nnz, H}, xc.options()) : at::empty({nnz}, xc.options());
  if (rows == 0 || nnz == 0) return out;
  if (F == 0) return out.zero_();
  const auto stream = c10::cuda::getCurrentCUDAStream();
  const bool mean = r == Reduce::Mean;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, xc.scalar_type(), "spmm_value_bw_cuda", [&] {
    const int G = group_size(F / H);
    const int64_t* ap = a.defined() ? a.data_ptr<int64_t>() : nullptr;
    spmm_value_bw_kernel<scalar_t><<<num_blocks(rows * G), kBlock, 0, stream>>>(
        ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(), xc.data_ptr<scalar_t>(),
        g.data_ptr<scalar_t>(), ap, out.data_ptr<scalar_t>(), rows, F, H, mean, G, plan.chunk);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    if (plan.pieces == 0) return;
    spmm_value_bw_piece_kernel<scalar_t><<<num_blocks(plan.pieces * G), kBlock, 0, stream>>>(
        ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(), xc.data_ptr<scalar_t>(),
        g.data_ptr<scalar_t>(), ap, out.data_ptr<scalar_t>(), plan, F, H, mean, G);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

// Reads the transpose (indptr_t, indices_t, pos_t); `indices` (what the CPU kernel
// reads instead) is only checked. The plan splits rows of the transpose.
at::Tensor spmm_arg_bw_impl(const at::Tensor& indptr_t, const at::Tensor& indices_t,
                            const at::Tensor& pos_t, const at::Tensor& indices,
                            const c10::optional<at::Tensor>& value, const at::Tensor& arg,
                            const at::Tensor& grad_out, const SplitPlan& plan) {
  const int64_t heads = check_spmm_args(indptr_t, indices_t, value, grad_out);
  check_index(pos_t, "pos_t");
  check_index(indices, "indices");
  check_same_device(indptr_t, pos_t, "indptr_t", "pos_t");
  check_same_device(indptr_t, arg, "indptr_t", "arg");
  TORCH_CHECK(pos_t.numel() == indices_t.numel() && indices.numel() == indices_t.numel(),
              "graphbias: pos_t, indices_t and indices differ in length");
  TORCH_CHECK(arg.sizes() == grad_out.sizes(), "graphbias: arg and grad_out differ in shape");
  TORCH_CHECK(arg.scalar_type() == at::kLong, "graphbias: arg must be int64");
  const c10::cuda::CUDAGuard guard(grad_out.device());
  const auto ip = indptr_t.contiguous(), ix = indices_t.contiguous(), pp = pos_t.contiguous();
  const auto ac = arg.contiguous(), g = grad_out.contiguous();
  const auto vc = (value.has_value() && value->defined()) ? value->contiguous() : at::Tensor();
  const int64_t cols = ip.numel() - 1, F = g.size(1), H = heads > 0 ? heads : 1;
  auto out = at::empty({cols, F}, g.options());
  if (cols == 0 || F == 0) return out;
  const Partials partials(plan, F, g, false);
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, g.scalar_type(), "spmm_arg_bw_cuda", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const bool vec = can_vectorise<scalar_t>(F / H, g.data_ptr(), out.data_ptr());
    const scalar_t* v = vc.defined() ? vc.data_ptr<scalar_t>() : nullptr;
    dispatch_vec<scalar_t>(vec, [&](auto vtag) {
      constexpr int V = decltype(vtag)::value;
      const int G = group_size(F / V);
      spmm_arg_bw_kernel<scalar_t, V><<<num_blocks(cols * G), kBlock, 0, stream>>>(
          ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(), pp.data_ptr<int64_t>(), v, H,
          ac.data_ptr<int64_t>(), g.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), cols, F, G,
          plan.chunk);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
      if (plan.pieces == 0) return;
      spmm_arg_bw_piece_kernel<scalar_t, V><<<num_blocks(plan.pieces * G), kBlock, 0, stream>>>(
          ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(), pp.data_ptr<int64_t>(), v, H,
          ac.data_ptr<int64_t>(), g.data_ptr<scalar_t>(), partials.value.data_ptr<acc_t>(), plan,
          F, G);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
    combine<scalar_t, Reduce::Sum>(partials, ip.data_ptr<int64_t>(), plan,
                                   out.data_ptr<scalar_t>(), nullptr, F, stream);
  });
  return out;
}

// The one-pass ops: the default plan splits no row.
std::tuple<at::Tensor, at::Tensor> spmm_fw_cuda(const at::Tensor& indptr,
                                                const at::Tensor& indices,
                                                const c10::optional<at::Tensor>& value,
                                                const at::Tensor& x, c10::string_view reduce) {
  return spmm_fw_impl(indptr, indices, value, x, reduce, SplitPlan{});
}

at::Tensor spmm_value_bw_cuda(const at::Tensor& indptr, const at::Tensor& indices,
                              const at::Tensor& x, const at::Tensor& grad_out,
                              const c10::optional<at::Tensor>& arg, c10::string_view reduce,
                              int64_t heads) {
  return spmm_value_bw_impl(indptr, indices, x, grad_out, arg, reduce, heads, SplitPlan{});
}

at::Tensor spmm_arg_bw_cuda(const at::Tensor& indptr_t, const at::Tensor& indices_t,
                            const at::Tensor& pos_t, const at::Tensor& indices,
                            const c10::optional<at::Tensor>& value, const at::Tensor& arg,
                            const at::Tensor& grad_out) {
  return spmm_arg_bw_impl(indptr_t, indices_t, pos_t, indices, value, arg, grad_out, SplitPlan{});
}

// The split ops: the one-pass arguments, then the plan of plan_rows (for _spmm_arg_bw,
// the plan of the transpose's rows).
std::tuple<at::Tensor, at::Tensor> spmm_fw_split_cuda(
    const at::Tensor& indptr, const at::Tensor& indices, const c10::optional<at::Tensor>& value,
    const at::Tensor& x, c10::string_view reduce, int64_t chunk, const at::Tensor& split_row,
    const at::Tensor& split_ptr, const at::Tensor& piece_split) {
  return spmm_fw_impl(indptr, indices, value, x, reduce,
                      split_plan(chunk, split_row, split_ptr, piece_split, indptr));
}

at::Tensor spmm_value_bw_split_cuda(const at::Tensor& indptr, const at::Tensor& indices,
                                    const at::Tensor& x, const at::Tensor& grad_out,
                                    const c10::optional<at::Tensor>& arg,
                                    c10::string_view reduce, int64_t heads, int64_t chunk,
                                    const at::Tensor& split_row, const at::Tensor& split_ptr,
                                    const at::Tensor& piece_split) {
  return spmm_value_bw_impl(indptr, indices, x, grad_out, arg, reduce, heads,
                            split_plan(chunk, split_row, split_ptr, piece_split, indptr));
}

at::Tensor spmm_arg_bw_split_cuda(const at::Tensor& indptr_t, const at::Tensor& indices_t,
                                  const at::Tensor& pos_t, const at::Tensor& indices,
                                  const c10::optional<at::Tensor>& value, const at::Tensor& arg,
                                  const at::Tensor& grad_out, int64_t chunk,
                                  const at::Tensor& split_row, const at::Tensor& split_ptr,
                                  const at::Tensor& piece_split) {
  return spmm_arg_bw_impl(indptr_t, indices_t, pos_t, indices, value, arg, grad_out,
                          split_plan(chunk, split_row, split_ptr, piece_split, indptr_t));
}

}  // namespace

// Schemas of the split ops: CUDA only, so they are defined with their kernels.
TORCH_LIBRARY_FRAGMENT(graphbias, m) {
  m.def("_spmm_fw_split(Tensor indptr, Tensor indices, Tensor? value, Tensor x, str reduce, "
        "int chunk, Tensor split_row, Tensor split_ptr, Tensor piece_split) -> (Tensor, Tensor)");
  m.def("_spmm_value_bw_split(Tensor indptr, Tensor indices, Tensor x, Tensor grad_out, "
        "Tensor? arg, str reduce, int heads, int chunk, Tensor split_row, Tensor split_ptr, "
        "Tensor piece_split) -> Tensor");
  m.def("_spmm_arg_bw_split(Tensor indptr_t, Tensor indices_t, Tensor pos_t, Tensor indices, "
        "Tensor? value, Tensor arg, Tensor grad_out, int chunk, Tensor split_row, "
        "Tensor split_ptr, Tensor piece_split) -> Tensor");
}

TORCH_LIBRARY_IMPL(graphbias, CUDA, m) {
  m.impl("_spmm_fw", &spmm_fw_cuda);
  m.impl("_spmm_value_bw", &spmm_value_bw_cuda);
  m.impl("_spmm_arg_bw", &spmm_arg_bw_cuda);
  m.impl("_spmm_fw_split", &spmm_fw_split_cuda);
  m.impl("_spmm_value_bw_split", &spmm_value_bw_split_cuda);
  m.impl("_spmm_arg_bw_split", &spmm_arg_bw_split_cuda);
}

}  // namespace graphbias
