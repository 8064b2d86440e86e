// Hub balancing for the row kernels: rows longer than a chunk are split into pieces.
//
// The row kernels give each CSR row to one group of lanes, so the group of a hub row
// walks all of its entries while the rest of the GPU idles. A split plan (made once
// per structure by graphbias/ops/_balanced.py, plan_rows) bounds that work: a row with
// more than `chunk` entries is cut into ceil(deg / chunk) pieces of at most `chunk`
// consecutive entries. A reduction then runs in three passes on one stream:
//   1. the row kernel, one group per row, skips the split rows (deg > chunk);
//   2. the piece kernel, one group per piece, reduces the piece into its slot p of a
//      partial buffer (at::opmath_type, raw: no mean scaling);
//   3. combine_kernel, one group per split row, folds the row's slots in piece order.
// Every output element is reduced in a fixed order: deterministic. Max / min and
// their arg equal the one-pass result exactly (pieces are folded in entry order with
// the same beats(), so the first NaN, else the first entry reaching the extremum,
// still wins); sum / mean round the partial sums differently.
#pragma once

#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <c10/cuda/CUDAException.h>
#include <c10/util/Exception.h>

#include "../common.h"
#include "pieces.cuh"
#include "utils.cuh"

namespace graphbias {

// The plan's tensors as a SplitPlan for the row pointer `indptr`. Only shapes, types
// and devices are checked here (cheap, no device sync); the contents come from
// plan_rows on the validated indptr, cached while that tensor is unchanged.
inline SplitPlan split_plan(int64_t chunk, const at::Tensor& split_row,
                            const at::Tensor& split_ptr, const at::Tensor& piece_split,
                            const at::Tensor& indptr) {
  TORCH_CHECK(chunk >= 1, "graphbias: chunk must be positive, got ", chunk);
  check_index(split_row, "split_row");
  check_index(split_ptr, "split_ptr");
  check_index(piece_split, "piece_split");
  check_same_device(indptr, split_row, "indptr", "split_row");
  check_same_device(indptr, split_ptr, "indptr", "split_ptr");
  check_same_device(indptr, piece_split, "indptr", "piece_split");
  TORCH_CHECK(split_row.is_contiguous() && split_ptr.is_contiguous() &&
                  piece_split.is_contiguous(),
              "graphbias: the split plan's tensors must be contiguous");
  TORCH_CHECK(split_ptr.numel() == split_row.numel() + 1, "graphbias: split_ptr has ",
              split_ptr.numel(), " entries for ", split_row.numel(), " split rows");
  TORCH_CHECK(split_row.numel() <= indptr.numel() - 1, "graphbias: ", split_row.numel(),
              " split rows but indptr has ", indptr.numel() - 1, " rows");
  SplitPlan plan;
  plan.chunk = chunk;
  plan.split_row = split_row.data_ptr<int64_t>();
  plan.split_ptr = split_ptr.data_ptr<int64_t>();
  plan.piece_split = piece_split.data_ptr<int64_t>();
  plan.splits = split_row.numel();
  plan.pieces = piece_split.numel();
  return plan;
}

// Partial buffers of the piece kernels: [pieces, K] values in acc_t, and for max /
// min the winning position of each; not allocated when the plan splits nothing.
struct Partials {
  at::Tensor value, arg;

  Partials(const SplitPlan& plan, int64_t K, const at::Tensor& like, bool with_arg) {
    if (plan.pieces == 0) return;
    value = at::empty({plan.pieces, K}, like.options().dtype(at::toOpMathType(like.scalar_type())));
    if (with_arg) arg = at::empty({plan.pieces, K}, like.options().dtype(at::kLong));
  }
};

// Pass 3: out[row, k] = fold over the pieces p of split row s, in order, of
// partial[p, k]; for max / min arg[row, k] = partial_arg[p*, k] of the winning piece
// p* (the first to beat the running extreme; the first piece when none does); mean
// divides by the row's entry count. One group of G lanes per split row, lane l owning
// columns l, l + G, ...
template <typename scalar_t, Reduce R>
__global__ void combine_kernel(const at::opmath_type<scalar_t>* __restrict__ partial,
                               const int64_t* __restrict__ partial_arg,
                               const int64_t* __restrict__ indptr, SplitPlan plan,
                               scalar_t* __restrict__ out, int64_t* __restrict__ arg,
                               int64_t K, int G, at::opmath_type<scalar_t> init) {
  using acc_t = at::opmath_type<scalar_t>;
  const Group grp(G);
  if (grp.row >= plan.splits) return;
  const int64_t s = grp.row, row = plan.split_row[s];
  const int64_t first = plan.split_ptr[s], last = plan.split_ptr[s + 1];
  for (int64_t k = grp.lane; k < K; k += G) {
    acc_t acc = init;
    int64_t best = 0;
    if constexpr (has_arg(R)) best = partial_arg[first * K + k];
    for (int64_t p = first; p < last; ++p) {
      const acc_t m = partial[p * K + k];
      if constexpr (has_arg(R)) {
        if (beats<R>(m, acc)) { acc = m; best = partial_arg[p * K + k]; }
      } else {
        acc += m;
      }
    }
    if constexpr (R == Reduce::Mean) acc /= acc_t(indptr[row + 1] - indptr[row]);
    out[row * K + k] = scalar_t(acc);
    if constexpr (has_arg(R)) arg[row * K + k] = best;
  }
}

// Launches combine_kernel for the split rows of `plan` into out / arg (viewed [rows, K]).
template <typename scalar_t, Reduce R>
void combine(const Partials& partials, const int64_t* indptr, const SplitPlan& plan,
             scalar_t* out, int64_t* arg, int64_t K, cudaStream_t stream) {
  if (plan.splits == 0 || K == 0) return;
  const int G = group_size(K);
  combine_kernel<scalar_t, R><<<num_blocks(plan.splits * G), kBlock, 0, stream>>>(
      partials.value.data_ptr<at::opmath_type<scalar_t>>(),
      has_arg(R) ? partials.arg.data_ptr<int64_t>() : nullptr, indptr, plan, out, arg, K, G,
      reduce_init<at::opmath_type<scalar_t>>(R));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace graphbias
