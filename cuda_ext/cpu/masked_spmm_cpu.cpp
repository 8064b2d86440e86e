// CPU kernel of a CSR times many bit-masked copies of one dense matrix:
//   out[s, i, f] = scale * sum_{e in row i} value[e] * (bit(s, col(e), f) ? x[col(e), f] : 0)
// with bit(s, j, f) = bit f % 64 of words[s, j, f / 64]. This is the first product of
// S dropout samples of a GCN layer, (A (M_s * x)) W, without writing the S masked
// copies of x (nor their float masks): every sample reads the same x, which stays in
// cache, and its mask as one bit per entry. Each output adds its entries in CSR order:
// deterministic.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "../common.h"
#include "simd.h"

namespace graphbias {
namespace {

constexpr int64_t kWordBits = 64;
constexpr int64_t kHalf = 32;  // columns per mask half word

// What one sample's rows read and write.
template <typename scalar_t>
struct MaskedRows {
  const int64_t* __restrict indptr;
  const int64_t* __restrict indices;
  const scalar_t* __restrict value;
  const scalar_t* __restrict x;
  const uint64_t* __restrict words;  // this sample's [N, words_per_row]
  scalar_t* __restrict out;           // this sample's [rows, F]
  int64_t F, words_per_row;
  at::opmath_type<scalar_t> scale;
};

// acc[c] += v * x[c] for the columns whose bit is set, c < width <= 32: a 0 / 1
// factor from variable shifts rather than a branch, so the loop vectorises.
template <bool kFull, typename acc_t, typename scalar_t>
GRAPHBIAS_INLINE void masked_axpy(acc_t* __restrict acc, const scalar_t* __restrict x,
                                         acc_t v, uint32_t bits, uint32_t width) {
  const uint32_t n = kFull ? uint32_t(kHalf) : width;
  for (uint32_t c = 0; c < n; ++c)
    acc[c] += v * acc_t(x[c]) * acc_t(int32_t((bits >> c) & 1u));
}

// Rows [begin, end): each entry's row of x streams past once, in order, into an
// F-wide accumulator that stays in L1 (faster here than register blocks of
// columns, which read x in short strips: 2x on a GCN's first layer of Cora).
template <typename scalar_t>
GRAPHBIAS_INLINE void masked_rows_body(const MaskedRows<scalar_t>& r, int64_t begin,
                                              int64_t end, at::opmath_type<scalar_t>* acc) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t F = r.F, full = F / kHalf * kHalf;
  for (int64_t i = begin; i < end; ++i) {
    std::fill(acc, acc + F, acc_t(0));
    for (int64_t e = r.indptr[i]; e < r.indptr[i + 1]; ++e) {
      const int64_t j = r.indices[e];
      const acc_t v = r.value ? acc_t(r.value[e]) : acc_t(1);
      const scalar_t* __restrict xr = r.x + j * F;
      const uint64_t* __restrict wr = r.words + j * r.words_per_row;
      for (int64_t c0 = 0; c0 < full; c0 += kHalf)
        masked_axpy<true>(acc + c0, xr + c0, v,
                          uint32_t(wr[c0 / kWordBits] >> (c0 % kWordBits)), kHalf);
      if (full < F)
        masked_axpy<false>(acc + full, xr + full, v,
                           uint32_t(wr[full / kWordBits] >> (full % kWordBits)),
                           uint32_t(F - full));
    }
    scalar_t* __restrict o = r.out + i * F;
    for (int64_t c = 0; c < F; ++c) o[c] = scalar_t(acc[c] * r.scale);
  }
}

// The same loop compiled for AVX2 where the CPU has it (chosen at run time); no
// fused multiply-adds in either, so both give the same bits.
#if GRAPHBIAS_X86_DISPATCH
template <typename scalar_t>
__attribute__((target("avx2"))) void masked_rows_avx2(const MaskedRows<scalar_t>& r,
                                                      int64_t begin, int64_t end,
                                                      at::opmath_type<scalar_t>* acc) {
  masked_rows_body(r, begin, end, acc);
}
#endif

template <typename scalar_t>
void masked_rows(const MaskedRows<scalar_t>& r, int64_t begin, int64_t end,
                 at::opmath_type<scalar_t>* acc) {
#if GRAPHBIAS_X86_DISPATCH
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return masked_rows_avx2(r, begin, end, acc);
#endif
  masked_rows_body(r, begin, end, acc);
}

at::Tensor masked_spmm_cpu(const at::Tensor& indptr, const at::Tensor& indices,
                           const c10::optional<at::Tensor>& value, const at::Tensor& x,
                           const at::Tensor& words, double scale) {
  const int64_t heads = check_spmm_args(indptr, indices, value, x);
  TORCH_CHECK(heads == 0, "graphbias: masked_spmm takes one value per entry");
  const int64_t N = x.size(0), F = x.size(1), W = (F + kWordBits - 1) / kWordBits;
  TORCH_CHECK(words.scalar_type() == at::kLong && words.dim() == 3 && words.size(1) == N &&
                  words.size(2) == W,
              "graphbias: masked_spmm needs int64 words of shape [S, ", N, ", ", W,
              "], got ", words.scalar_type(), " ", words.sizes());
  check_same_device(indptr, words, "indptr", "words");
  const auto ip = indptr.contiguous(), ix = indices.contiguous(), xc = x.contiguous();
  const auto wc = words.contiguous();
  const auto vc = (value.has_value() && value->defined()) ? value->contiguous() : at::Tensor();
  const int64_t S = wc.size(0), rows = ip.numel() - 1;
  auto out = at::empty({S, rows, F}, xc.options());
  if (S == 0 || rows == 0 || F == 0) return out;
  AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "masked_spmm_cpu", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const auto* wp = reinterpret_cast<const uint64_t*>(wc.data_ptr<int64_t>());
    const int64_t nnz = ip.data_ptr<int64_t>()[rows];
    // work units of (sample, block of rows), about 32k entry-columns each
    const int64_t per = std::max<int64_t>(1, rows * 32768 / std::max<int64_t>((nnz + rows) * F, 1));
    const int64_t blocks = (rows + per - 1) / per;
    at::parallel_for(0, S * blocks, 1, [&](int64_t ub, int64_t ue) {
      std::vector<acc_t> acc(F);
      for (int64_t u = ub; u < ue; ++u) {
        const int64_t s = u / blocks, begin = (u % blocks) * per;
        const MaskedRows<scalar_t> r{ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(),
                                     vc.defined() ? vc.data_ptr<scalar_t>() : nullptr,
                                     xc.data_ptr<scalar_t>(), wp + s * N * W,
                                     out.data_ptr<scalar_t>() + s * rows * F, F, W,
                                     acc_t(scale)};
        masked_rows(r, begin, std::min(rows, begin + per), acc.data());
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(graphbias, CPU, m) { m.impl("masked_spmm", &masked_spmm_cpu); }

}  // namespace graphbias
