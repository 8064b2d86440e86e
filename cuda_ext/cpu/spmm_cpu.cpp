// CPU kernels of the fused sparse x dense product and its backward pieces.
// Parallel over output rows (balanced by entries), each row computed by one thread
// in CSR order: results are deterministic. Inner loops run over contiguous feature
// columns and vectorise.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <torch/library.h>

#include <string>
#include <tuple>
#include <vector>

#include "../common.h"
#include "dispatch.h"
#include "partition.h"
#include "simd.h"

namespace graphbias {
namespace {

// Rows of x are gathered in random order: ask for the row needed kPrefetch entries
// ahead, one request per 64-byte line, so memory latency overlaps the arithmetic.
constexpr int64_t kPrefetch = 8;

template <typename scalar_t>
inline void prefetch_row(const scalar_t* row, int64_t F) {
  const char* p = reinterpret_cast<const char*>(row);
  for (int64_t b = 0; b < F * int64_t(sizeof(scalar_t)); b += 64) __builtin_prefetch(p + b);
}

// One output row of a sum / mean: its entries [lo, hi) and what they read and write.
template <typename scalar_t>
struct SumRow {
  const int64_t* __restrict indices;
  const scalar_t* __restrict value;
  const scalar_t* __restrict x;
  scalar_t* __restrict out;  // the row's outputs
  int64_t H, F, lo, hi, stop;
  at::opmath_type<scalar_t> scale;  // 1, or 1 / degree for the mean
};

// Columns [c0, c0 + W) of head h: W accumulators stay in registers while the row's
// entries stream past, so no partial sum is loaded or stored per entry. Each output
// still adds its entries in CSR order, as a plain loop would: the same bits.
template <int64_t W, typename scalar_t>
GRAPHBIAS_INLINE void sum_block(const SumRow<scalar_t>& s, int64_t h, int64_t c0) {
  using acc_t = at::opmath_type<scalar_t>;
  acc_t r[W] = {};
  for (int64_t e = s.lo; e < s.hi; ++e) {
    if (e + kPrefetch < s.stop) prefetch_row(s.x + s.indices[e + kPrefetch] * s.F + c0, W);
    const acc_t v = s.value ? acc_t(s.value[e * s.H + h]) : acc_t(1);
    const scalar_t* __restrict xr = s.x + s.indices[e] * s.F + c0;
    for (int64_t c = 0; c < W; ++c) r[c] += v * acc_t(xr[c]);
  }
  for (int64_t c = 0; c < W; ++c) s.out[c0 + c] = scalar_t(r[c] * s.scale);
}

// The last c1 - c0 < 2W columns of a head, in blocks of W, W / 2, ..., 1.
template <int64_t W, typename scalar_t>
GRAPHBIAS_INLINE void sum_tail(const SumRow<scalar_t>& s, int64_t h, int64_t c0, int64_t c1) {
  if constexpr (W >= 1) {
    if (c1 - c0 >= W) {
      sum_block<W>(s, h, c0);
      c0 += W;
    }
    sum_tail<W / 2>(s, h, c0, c1);
  }
}

// Sum / mean over the rows [begin, end), each head's columns in register blocks.
template <typename scalar_t>
GRAPHBIAS_INLINE void sum_rows_body(const int64_t* __restrict indptr,
                                    const int64_t* __restrict indices,
                                    const scalar_t* __restrict value, int64_t H, int64_t C,
                                    const scalar_t* __restrict x, scalar_t* __restrict out,
                                    int64_t begin, int64_t end, bool mean) {
  using acc_t = at::opmath_type<scalar_t>;
  constexpr int64_t kBlock = 128 / sizeof(acc_t);  // 4 AVX / 8 SSE registers
  const int64_t F = H * C;
  for (int64_t i = begin; i < end; ++i) {
    const int64_t lo = indptr[i], hi = indptr[i + 1];
    const acc_t scale = !mean ? acc_t(1) : hi > lo ? acc_t(1) / acc_t(hi - lo) : acc_t(0);
    const SumRow<scalar_t> s{indices, value, x, out + i * F, H, F, lo, hi, indptr[end], scale};
    for (int64_t h = 0; h < H; ++h) {
      int64_t c0 = h * C;
      for (; c0 + kBlock <= (h + 1) * C; c0 += kBlock) sum_block<kBlock>(s, h, c0);
      sum_tail<kBlock / 2>(s, h, c0, (h + 1) * C);
    }
  }
}

#define GRAPHBIAS_SUM_ROWS_ARGS                                                        \
  const int64_t *__restrict indptr, const int64_t *__restrict indices,                 \
      const scalar_t *__restrict value, int64_t H, int64_t C,                          \
      const scalar_t *__restrict x, scalar_t *__restrict out, int64_t begin, int64_t end, \
      bool mean

// The same loop compiled for AVX2 where the CPU has it (chosen at run time). Only
// wider registers: no fused multiply-add, so both give the same bits.
#if GRAPHBIAS_X86_DISPATCH
template <typename scalar_t>
__attribute__((target("avx2"))) void sum_rows_avx2(GRAPHBIAS_SUM_ROWS_ARGS) {
  sum_rows_body(indptr, indices, value, H, C, x, out, begin, end, mean);
}
#endif

template <typename scalar_t>
void sum_rows(GRAPHBIAS_SUM_ROWS_ARGS) {
#if GRAPHBIAS_X86_DISPATCH
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return sum_rows_avx2(indptr, indices, value, H, C, x, out, begin, end, mean);
#endif
  sum_rows_body(indptr, indices, value, H, C, x, out, begin, end, mean);
}
#undef GRAPHBIAS_SUM_ROWS_ARGS

template <typename scalar_t, Reduce R>
void spmm_rows(const int64_t* __restrict indptr, const int64_t* __restrict indices,
               const scalar_t* __restrict value, int64_t H, const scalar_t* __restrict x,
               scalar_t* __restrict out, int64_t* __restrict arg, int64_t rows, int64_t F) {
  using acc_t = at::opmath_type<scalar_t>;
  // One column (then one head): a scalar accumulator, no buffers. It serves sum and
  // mean too (the same bits as sum_rows): on 10^5 nodes / 10^6 entries sum_rows took
  // 2.9-4.5 ms against 2.3-3.1 ms here (sum and mean, one thread).
  if (F == 1) {
    const int64_t nnz = indptr[rows];
    parallel_rows(indptr, rows, 1, [&](int64_t begin, int64_t end) {
      const int64_t stop = indptr[end];
      for (int64_t i = begin; i < end; ++i) {
        const int64_t lo = indptr[i], hi = indptr[i + 1];
        acc_t a = reduce_init<acc_t>(R);
        int32_t best = 0;
        for (int64_t e = lo; e < hi; ++e) {
          if (e + kPrefetch < stop) __builtin_prefetch(x + indices[e + kPrefetch]);
          const acc_t v = value ? acc_t(value[e]) : acc_t(1);
          accumulate<R>(a, best, v * acc_t(x[indices[e]]), int32_t(e - lo));
        }
        const int64_t deg = hi - lo;
        if constexpr (R == Reduce::Mean) {
          out[i] = scalar_t(a * (deg > 0 ? acc_t(1) / acc_t(deg) : acc_t(0)));
        } else if constexpr (R == Reduce::Sum) {
          out[i] = scalar_t(a);
        } else {
          out[i] = deg > 0 ? scalar_t(a) : scalar_t(0);
          arg[i] = deg > 0 ? lo + best : nnz;
        }
      }
    });
    return;
  }
  const int64_t C = F / H;
  if constexpr (R == Reduce::Sum || R == Reduce::Mean) {
    parallel_rows(indptr, rows, F, [&](int64_t begin, int64_t end) {
      sum_rows<scalar_t>(indptr, indices, value, H, C, x, out, begin, end, R == Reduce::Mean);
    });
    return;
  }
  // max / min
  parallel_rows(indptr, rows, F, [&](int64_t begin, int64_t end) {
    std::vector<acc_t> acc(F);
    std::vector<int32_t> best(F);  // winner, relative to the row start
    const int64_t stop = indptr[end];
    for (int64_t i = begin; i < end; ++i) {
      const int64_t lo = indptr[i], hi = indptr[i + 1];
      std::fill(acc.begin(), acc.end(), reduce_init<acc_t>(R));
      std::fill(best.begin(), best.end(), 0);
      acc_t* __restrict a = acc.data();
      for (int64_t e = lo; e < hi; ++e) {
        if (e + kPrefetch < stop) prefetch_row(x + indices[e + kPrefetch] * F, F);
        const scalar_t* __restrict xr = x + indices[e] * F;
        for (int64_t h = 0; h < H; ++h) {
          const acc_t v = value ? acc_t(value[e * H + h]) : acc_t(1);
          const int64_t off = h * C;
          // branch-free select keeps the loop vectorised; beats() lets a NaN
          // propagate and otherwise the first entry reaching the extremum win
          const int32_t rel = int32_t(e - lo);
          int32_t* __restrict bi = best.data() + off;
          for (int64_t c = 0; c < C; ++c) {
            const acc_t m = v * acc_t(xr[off + c]);
            const bool win = beats<R>(m, a[off + c]);
            a[off + c] = win ? m : a[off + c];
            bi[c] = win ? rel : bi[c];
          }
        }
      }
      scalar_t* __restrict o = out + i * F;
      const int64_t deg = hi - lo, nnz = indptr[rows];
      for (int64_t f = 0; f < F; ++f) {
        o[f] = deg > 0 ? scalar_t(a[f]) : scalar_t(0);
        arg[i * F + f] = deg > 0 ? lo + best[f] : nnz;
      }
    }
  });
}

std::tuple<at::Tensor, at::Tensor> spmm_fw_cpu(const at::Tensor& indptr,
                                               const at::Tensor& indices,
                                               const c10::optional<at::Tensor>& value,
                                               const at::Tensor& x, c10::string_view reduce) {
  const int64_t heads = check_spmm_args(indptr, indices, value, x);
  const Reduce r = parse_reduce(std::string(reduce));
  const auto ip = indptr.contiguous(), ix = indices.contiguous(), xc = x.contiguous();
  const auto vc = (value.has_value() && value->defined()) ? value->contiguous() : at::Tensor();
  const int64_t rows = ip.numel() - 1, F = xc.size(1), H = heads > 0 ? heads : 1;
  auto out = at::empty({rows, F}, xc.options());
  auto arg = at::empty({has_arg(r) ? rows : 0, has_arg(r) ? F : 0}, ip.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, xc.scalar_type(), "spmm_fw_cpu", [&] {
    dispatch_reduce(r, [&](auto tag) {
      spmm_rows<scalar_t, decltype(tag)::value>(
          ip.data_ptr<int64_t>(), ix.data_ptr<int64_t>(),
          vc.defined() ? vc.data_ptr<scalar_t>() : nullptr, H, xc.data_ptr<scalar_t>(),
          out.data_ptr<scalar_t>(), has_arg(r) ? arg.data_ptr<int64_t>() : nullptr, rows, F);
    });
  });
  return {out, arg};
}

// d value[e, h] = <grad_out[row(e), head h], x[col(e), head h]> (only the columns
// that entry e won, for max / min; divided by the row's degree, for mean).
at::Tensor spmm_value_bw_cpu(const at::Tensor& indptr, const at::Tensor& indices,
                             const at::Tensor& x, const at::Tensor& grad_out,
                             const c10::optional<at::Tensor>& arg, c10::string_view reduce,
                             int64_t heads) {
  check_spmm_args(indptr, indices, c10::nullopt, x);
  const Reduce r = parse_reduce(std::string(reduce));
  const auto ip = indptr.contiguous(), ix = indices.contiguous(), xc = x.contiguous();
  const auto g = grad_out.contiguous();
  const int64_t rows = ip.numel() - 1, F = xc.size(1), H = heads > 0 ? heads : 1, C = F / H;
  TORCH_CHECK(g.dim() == 2 && g.size(0) == rows && g.size(1) == F,
              "graphbias: grad_out must be [", rows, ", ", F, "]");
  TORCH_CHECK(F % H == 0, "graphbias: heads must divide the feature width");
  at::Tensor a;
  if (has_arg(r)) {
    TORCH_CHECK(arg.has_value() && arg->sizes() == g.sizes(), "graphbias: max / min need arg");
    a = arg->contiguous();
  }
  const int64_t nnz = ix.numel();
  auto out = heads > 0 ? at::empty({nnz, H}, xc.options()) : at::empty({nnz}, xc.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, xc.scalar_type(), "spmm_value_bw", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const int64_t* p = ip.data_ptr<int64_t>();
    const int64_t* col = ix.data_ptr<int64_t>();
    const scalar_t* xp = xc.data_ptr<scalar_t>();
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const int64_t* ap = a.defined() ? a.data_ptr<int64_t>() : nullptr;
    scalar_t* op = out.data_ptr<scalar_t>();
    parallel_rows(p, rows, F, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const int64_t deg = p[i + 1] - p[i];
        const acc_t scale = r == Reduce::Mean ? acc_t(1) / acc_t(std::max<int64_t>(deg, 1))
                                              : acc_t(1);
        const scalar_t* gr = gp + i * F;
        for (int64_t e = p[i]; e < p[i + 1]; ++e) {
          const scalar_t* xr = xp + col[e] * F;
          for (int64_t h = 0; h < H; ++h) {
            acc_t s = 0;
            if (ap) {
              const int64_t* arow = ap + i * F;
              for (int64_t c = h * C; c < (h + 1) * C; ++c)
                if (arow[c] == e) s += acc_t(gr[c]) * acc_t(xr[c]);
            } else {
              for (int64_t c = h * C; c < (h + 1) * C; ++c) s += acc_t(gr[c]) * acc_t(xr[c]);
            }
            op[e * H + h] = scalar_t(s * scale);
          }
        }
      }
    });
  });
  return out;
}

// Max / min backward for x without atomics: each thread owns a range of x's rows
// and walks every output element in row order, adding the gradient of the ones
// whose winning entry points into its range. Each grad_x[j, f] therefore sums its
// contributions in increasing row order, whatever the thread count: deterministic.
// This reads arg once per thread instead of once per entry.
at::Tensor spmm_arg_bw_cpu(const at::Tensor& indptr_t, const at::Tensor&, const at::Tensor&,
                           const at::Tensor& indices, const c10::optional<at::Tensor>& value,
                           const at::Tensor& arg, const at::Tensor& grad_out) {
  check_index(indptr_t, "indptr_t");
  check_index(indices, "indices");
  TORCH_CHECK(arg.scalar_type() == at::kLong && arg.sizes() == grad_out.sizes() &&
                  grad_out.dim() == 2,
              "graphbias: arg must be int64 and shaped like the 2-D grad_out");
  const int64_t cols = indptr_t.numel() - 1, rows = grad_out.size(0), F = grad_out.size(1);
  const int64_t nnz = indices.numel();
  int64_t H = 1;
  at::Tensor vc;
  if (value.has_value() && value->defined()) {
    vc = value->contiguous();
    TORCH_CHECK(vc.size(0) == nnz, "graphbias: value has ", vc.size(0), " entries, indices ", nnz);
    H = vc.dim() == 2 ? vc.size(1) : 1;
    TORCH_CHECK(F % H == 0, "graphbias: heads must divide the feature width");
  }
  const int64_t C = F / H;
  const auto ix = indices.contiguous(), ac = arg.contiguous(), g = grad_out.contiguous();
  auto out = at::zeros({cols, F}, g.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, g.scalar_type(), "spmm_arg_bw", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const int64_t* col = ix.data_ptr<int64_t>();
    const int64_t* ap = ac.data_ptr<int64_t>();
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const scalar_t* vp = vc.defined() ? vc.data_ptr<scalar_t>() : nullptr;
    scalar_t* op = out.data_ptr<scalar_t>();
    const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), cols));
    at::parallel_for(0, parts, 1, [&](int64_t pb, int64_t pe) {
      for (int64_t part = pb; part < pe; ++part) {
        const int64_t lo = cols * part / parts, hi = cols * (part + 1) / parts;
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t* arow = ap + i * F;
          for (int64_t f = 0; f < F; ++f) {
            const int64_t e = arow[f];
            if (e >= nnz) continue;  // empty row: no winner
            const int64_t j = col[e];
            if (j < lo || j >= hi) continue;
            const acc_t v = vp ? acc_t(vp[e * H + f / C]) : acc_t(1);
            op[j * F + f] = scalar_t(acc_t(op[j * F + f]) + v * acc_t(gp[i * F + f]));
          }
        }
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(graphbias, CPU, m) {
  m.impl("_spmm_fw", &spmm_fw_cpu);
  m.impl("_spmm_value_bw", &spmm_value_bw_cpu);
  m.impl("_spmm_arg_bw", &spmm_arg_bw_cpu);
}

}  // namespace graphbias
