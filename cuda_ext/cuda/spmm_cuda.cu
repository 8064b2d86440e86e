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
#include "utils.cuh"

namespace graphbias {
namespace {

// out[i, f] = reduce over entries e of row i of value[e, head(f)] * x[indices[e], f].
template <typename scalar_t, Reduce R, int V>
__global__ void spmm_fw_kernel(const int64_t* __restrict__ indptr,
                               const int64_t* __restrict__ indices,
                               const scalar_t* __restrict__ value, int64_t H,
                               const scalar_t* __restrict__ x, scalar_t* __restrict__ out,
                               int64_t* __restrict__ arg, int64_t rows, int64_t F, int G,
                               at::opmath_type<scalar_t> init) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= rows) return;
  const int64_t i = grp.row, lo = indptr[i], hi = indptr[i + 1], C = F / H;
  for (int64_t f = int64_t(grp.lane) * V; f < F; f += int64_t(G) * V) {
    const int64_t h = f / C;  // V divides C: the vector lies in one head
    acc_t acc[V];
    int64_t best[V];
#pragma unroll
    for (int j = 0; j < V; ++j) { acc[j] = init; best[j] = lo; }
    for (int64_t e = lo; e < hi; ++e) {
      const acc_t v = value ? acc_t(value[e * H + h]) : acc_t(1);
      const auto xv = load_vec<scalar_t, V>(x + indices[e] * F + f);
#pragma unroll
      for (int j = 0; j < V; ++j) fold<R>(acc[j], best[j], mul_rn(v, acc_t(xv.v[j])), e);
    }
    Vec<scalar_t, V> o;
    const int64_t deg = hi - lo;
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

// out[e, h] = scale(row) * sum over columns c of head h (won by e, for max / min) of
// grad_out[row, c] * x[indices[e], c]. Lanes split the head's columns; one shuffle
// reduction per entry and head.
template <typename scalar_t>
__global__ void spmm_value_bw_kernel(const int64_t* __restrict__ indptr,
                                     const int64_t* __restrict__ indices,
                                     const scalar_t* __restrict__ x,
                                     const scalar_t* __restrict__ grad_out,
                                     const int64_t* __restrict__ arg, scalar_t* __restrict__ out,
                                     int64_t rows, int64_t F, int64_t H, bool mean, int G) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= rows) return;
  const int64_t i = grp.row, lo = indptr[i], hi = indptr[i + 1], C = F / H;
  const acc_t scale = mean ? acc_t(1) / acc_t(hi - lo > 1 ? hi - lo : 1) : acc_t(1);
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

// Max / min backward for x, one group per transpose row j (a column of the original
// matrix), gathering over its entries in row order:
// out[j, f] = sum over entries e = (i, j) with arg[i, f] == e of value[e] * grad_out[i, f].
// Like the CPU kernel, which adds into the output tensor, each addition is rounded
// to scalar_t (a no-op for float and double), so the bits agree for half types too.
template <typename scalar_t, int V>
__global__ void spmm_arg_bw_kernel(const int64_t* __restrict__ indptr_t,
                                   const int64_t* __restrict__ recv,
                                   const int64_t* __restrict__ pos,
                                   const scalar_t* __restrict__ value, int64_t H,
                                   const int64_t* __restrict__ arg,
                                   const scalar_t* __restrict__ grad_out,
                                   scalar_t* __restrict__ out, int64_t cols, int64_t F, int G) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= cols) return;
  const int64_t j = grp.row, lo = indptr_t[j], hi = indptr_t[j + 1], C = F / H;
  for (int64_t f = int64_t(grp.lane) * V; f < F; f += int64_t(G) * V) {
    const int64_t h = f / C;
    acc_t acc[V];
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
    Vec<scalar_t, V> o;
#pragma unroll
    for (int q = 0; q < V; ++q) o.v[q] = scalar_t(acc[q]);
    store_vec(out + j * F + f, o);
  }
}

// 16-byte vectors need the head width to be a multiple of the vector and aligned rows.
template <typename scalar_t>
bool can_vectorise(int64_t C, const void* a, const void* b) {
  return C % max_vec<scalar_t>() == 0 && aligned16(a) && aligned16(b);
}

std::tuple<at::Tensor, at::Tensor> spmm_fw_cuda(const at::Tensor& indptr,
                                                const at::Tensor& indices,
                                                const c10::optional<at::Tensor>& value,
                                                const at::Tensor& x, c10::string_view reduce) {
  const int64_t heads = check_spmm_args(indptr, indices, value, x);
  const Reduce r = parse_reduce(std::string(reduce));
  const c10::cuda::CUDAGuard guard(x.device());
  const auto ip = indptr.contiguous(), ix = indices.contiguous(), xc = x.contiguous();
  const auto vc = (value.has_value() && value->defined()) ? value->contiguous() : at::Tensor();
  const int64_t rows = ip.numel() - 1, F = xc.size(1), H = heads > 0 ? heads : 1;
  auto out = at::empty({rows, F}, xc.options());
  auto arg = at::empty({has_arg(r) ? rows : 0, has_arg(r) ? F : 0}, ip.options());
  if (rows == 0 || F == 0) return {out, arg};
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, xc.scalar_type(), "spmm_fw_cuda", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const bool vec = can_vectorise<scalar_t>(F / H, xc.data_ptr(), out.data_ptr());
    dispatch_reduce(r, [&](auto tag) {
      constexpr Reduce R = decltype(tag)::value;
      dispatch_vec<scalar_t>(vec, [&](auto vtag) {
        constexpr int V = decltype(vtag)::value;
        const int G = group_size(F / V);
        spmm_fw_kernel<scalar_t, R, V><<<num_blocks(rows * G), kBlock, 0, stream>>>(
            ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(),
            vc.defined() ? vc.data_ptr<scalar_t>() : nullptr, H, xc.data_ptr<scalar_t>(),
            out.data_ptr<scalar_t>(), has_arg(R) ? arg.data_ptr<int64_t>() : nullptr, rows, F,
            G, reduce_init<acc_t>(R));
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      });
    });
  });
  return {out, arg};
}

at::Tensor spmm_value_bw_cuda(const at::Tensor& indptr, const at::Tensor& indices,
                              const at::Tensor& x, const at::Tensor& grad_out,
                              const c10::optional<at::Tensor>& arg, c10::string_view reduce,
                              int64_t heads) {
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
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, xc.scalar_type(), "spmm_value_bw_cuda", [&] {
    const int G = group_size(F / H);
    spmm_value_bw_kernel<scalar_t><<<num_blocks(rows * G), kBlock, 0, stream>>>(
        ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(), xc.data_ptr<scalar_t>(),
        g.data_ptr<scalar_t>(), a.defined() ? a.data_ptr<int64_t>() : nullptr,
        out.data_ptr<scalar_t>(), rows, F, H, r == Reduce::Mean, G);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return out;
}

// Reads the transpose (indptr_t, indices_t, pos_t); `indices` (what the CPU kernel
// reads instead) is only checked.
at::Tensor spmm_arg_bw_cuda(const at::Tensor& indptr_t, const at::Tensor& indices_t,
                            const at::Tensor& pos_t, const at::Tensor& indices,
                            const c10::optional<at::Tensor>& value, const at::Tensor& arg,
                            const at::Tensor& grad_out) {
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
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, g.scalar_type(), "spmm_arg_bw_cuda", [&] {
    const bool vec = can_vectorise<scalar_t>(F / H, g.data_ptr(), out.data_ptr());
    dispatch_vec<scalar_t>(vec, [&](auto vtag) {
      constexpr int V = decltype(vtag)::value;
      const int G = group_size(F / V);
      spmm_arg_bw_kernel<scalar_t, V><<<num_blocks(cols * G), kBlock, 0, stream>>>(
          ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(), pp.data_ptr<int64_t>(),
          vc.defined() ? vc.data_ptr<scalar_t>() : nullptr, H, ac.data_ptr<int64_t>(),
          g.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), cols, F, G);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(graphbias, CUDA, m) {
  m.impl("_spmm_fw", &spmm_fw_cuda);
  m.impl("_spmm_value_bw", &spmm_value_bw_cuda);
  m.impl("_spmm_arg_bw", &spmm_arg_bw_cuda);
}

}  // namespace graphbias
