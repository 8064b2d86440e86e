// CPU kernel of a CSR times many bit-masked copies of one dense matrix:
//   out[s, i, f] = scale * sum_{e in row i} value[e] * (bit(s, col(e), f) ? x[col(e), f] : 0)
// with bit(s, j, f) = bit f % 64 of words[s, j, f / 64]. This is the first product of
// S dropout samples of a GCN layer, (A (M_s * x)) W, without writing the S masked
// copies of x (nor their float masks): each row of x is read once per entry for all
// samples, and each sample's mask as one bit per entry. Each output adds its entries
// in CSR order: deterministic.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#endif

#include "../common.h"
#include "simd.h"

namespace graphbias {
namespace {

constexpr int64_t kWordBits = 64;
constexpr int64_t kHalf = 32;  // columns per mask half word

// What the rows read and write: every sample's masks and outputs.
template <typename scalar_t>
struct MaskedRows {
  const int64_t* __restrict indptr;
  const int64_t* __restrict indices;
  const scalar_t* __restrict value;
  const scalar_t* __restrict x;
  const uint64_t* __restrict words;  // [S, N, words_per_row]
  scalar_t* __restrict out;           // [S, rows, F]
  int64_t S, N, rows, F, words_per_row;
  at::opmath_type<scalar_t> scale;
};

// acc[c] += vx[c] for the columns whose bit is set, c < width <= 32: a select from
// variable shifts rather than a branch, so the loop vectorises. A dropped entry adds
// +0, which leaves the sum as it is (it starts at +0 and never becomes -0): the bits
// of adding vx[c] times a 0 / 1 factor, for finite x.
template <bool kFull, typename acc_t>
GRAPHBIAS_INLINE void masked_add(acc_t* __restrict acc, const acc_t* __restrict vx,
                                 uint32_t bits, uint32_t width) {
  const uint32_t n = kFull ? uint32_t(kHalf) : width;
  for (uint32_t c = 0; c < n; ++c) acc[c] += ((bits >> c) & 1u) ? vx[c] : acc_t(0);
}

// Rows [begin, end): each entry's row of x is read and scaled by its value once, then
// added into every sample's F-wide accumulator (S of them, in L1 / L2) before the next
// entry, so x streams past once for all samples rather than once per sample. Each
// (sample, row) adds its entries in CSR order.
template <typename scalar_t>
GRAPHBIAS_INLINE void masked_rows_body(const MaskedRows<scalar_t>& r, int64_t begin,
                                              int64_t end, at::opmath_type<scalar_t>* acc) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t F = r.F, S = r.S, full = F / kHalf * kHalf;
  const int64_t sample_words = r.N * r.words_per_row;
  acc_t* __restrict vx = acc + S * F;  // the entry's v * x row, shared by the samples
  for (int64_t i = begin; i < end; ++i) {
    std::fill(acc, acc + S * F, acc_t(0));
    for (int64_t e = r.indptr[i]; e < r.indptr[i + 1]; ++e) {
      const int64_t j = r.indices[e];
      const acc_t v = r.value ? acc_t(r.value[e]) : acc_t(1);
      const scalar_t* __restrict xr = r.x + j * F;
      for (int64_t c = 0; c < F; ++c) vx[c] = v * acc_t(xr[c]);
      for (int64_t s = 0; s < S; ++s) {
        const uint64_t* __restrict wr = r.words + s * sample_words + j * r.words_per_row;
        acc_t* __restrict as = acc + s * F;
        for (int64_t c0 = 0; c0 < full; c0 += kHalf)
          masked_add<true>(as + c0, vx + c0,
                           uint32_t(wr[c0 / kWordBits] >> (c0 % kWordBits)), kHalf);
        if (full < F)
          masked_add<false>(as + full, vx + full,
                            uint32_t(wr[full / kWordBits] >> (full % kWordBits)),
                            uint32_t(F - full));
      }
    }
    for (int64_t s = 0; s < S; ++s) {
      scalar_t* __restrict o = r.out + (s * r.rows + i) * F;
      const acc_t* __restrict as = acc + s * F;
      for (int64_t c = 0; c < F; ++c) o[c] = scalar_t(as[c] * r.scale);
    }
  }
}

// The same loop compiled for AVX2 where the CPU has it (chosen at run time), and for
// float on AVX-512 with the mask bits as lane masks of the additions: a dropped
// entry's lane keeps its sum, as adding +0 does. All give the same bits. The AVX-512
// loop is written out because a compiled AVX-512 clone of masked_rows_body is slower:
// on Cora's selection rows, 4 samples, 6.4 ms against 5.5 (the loop before sharing x
// across samples: 8.1).
#if GRAPHBIAS_X86_DISPATCH
template <typename scalar_t>
__attribute__((target("avx2"))) void masked_rows_avx2(const MaskedRows<scalar_t>& r,
                                                      int64_t begin, int64_t end,
                                                      at::opmath_type<scalar_t>* acc) {
  masked_rows_body(r, begin, end, acc);
}

__attribute__((target("avx512f"))) void masked_rows_avx512(const MaskedRows<float>& r,
                                                           int64_t begin, int64_t end,
                                                           float* acc) {
  constexpr int64_t kLanes = 16;
  const int64_t F = r.F, S = r.S, lanes = F / kLanes * kLanes;
  const int64_t sample_words = r.N * r.words_per_row;
  float* __restrict vx = acc + S * F;
  for (int64_t i = begin; i < end; ++i) {
    std::fill(acc, acc + S * F, 0.0f);
    for (int64_t e = r.indptr[i]; e < r.indptr[i + 1]; ++e) {
      const int64_t j = r.indices[e];
      const float v = r.value ? r.value[e] : 1.0f;
      const float* __restrict xr = r.x + j * F;
      for (int64_t c = 0; c < F; ++c) vx[c] = v * xr[c];
      for (int64_t s = 0; s < S; ++s) {
        const uint64_t* __restrict wr = r.words + s * sample_words + j * r.words_per_row;
        float* __restrict as = acc + s * F;
        for (int64_t c0 = 0; c0 < lanes; c0 += kLanes) {
          const __mmask16 keep = __mmask16(wr[c0 / kWordBits] >> (c0 % kWordBits));
          const __m512 sum = _mm512_loadu_ps(as + c0);
          _mm512_storeu_ps(as + c0,
                           _mm512_mask_add_ps(sum, keep, sum, _mm512_loadu_ps(vx + c0)));
        }
        for (int64_t c = lanes; c < F; ++c)
          as[c] += ((wr[c / kWordBits] >> (c % kWordBits)) & 1u) ? vx[c] : 0.0f;
      }
    }
    for (int64_t s = 0; s < S; ++s) {
      float* __restrict o = r.out + (s * r.rows + i) * F;
      const float* __restrict as = acc + s * F;
      for (int64_t c = 0; c < F; ++c) o[c] = as[c] * r.scale;
    }
  }
}
#endif

template <typename scalar_t>
void masked_rows(const MaskedRows<scalar_t>& r, int64_t begin, int64_t end,
                 at::opmath_type<scalar_t>* acc) {
#if GRAPHBIAS_X86_DISPATCH
  if constexpr (std::is_same_v<scalar_t, float>) {
    static const bool avx512 = __builtin_cpu_supports("avx512f");
    if (avx512) return masked_rows_avx512(r, begin, end, acc);
  }
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
    // work units of blocks of rows, about 32k entry-columns of all samples each
    const int64_t per = std::max<int64_t>(
        1, rows * 32768 / std::max<int64_t>((nnz + rows) * F * S, 1));
    const int64_t blocks = (rows + per - 1) / per;
    const MaskedRows<scalar_t> r{ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(),
                                 vc.defined() ? vc.data_ptr<scalar_t>() : nullptr,
                                 xc.data_ptr<scalar_t>(), wp, out.data_ptr<scalar_t>(),
                                 S, N, rows, F, W, acc_t(scale)};
    at::parallel_for(0, blocks, 1, [&](int64_t ub, int64_t ue) {
      std::vector<acc_t> acc((S + 1) * F);
      for (int64_t u = ub; u < ue; ++u)
        masked_rows(r, u * per, std::min(rows, (u + 1) * per), acc.data());
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(graphbias, CPU, m) { m.impl("masked_spmm", &masked_spmm_cpu); }

}  // namespace graphbias
