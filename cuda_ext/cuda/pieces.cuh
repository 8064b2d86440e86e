// The pieces of a split plan (see split.cuh): plain structs and index arithmetic
// with no torch dependency, so the host can run them too (a test compiles this
// header into a host program and checks piece_of against the Python planner).
#pragma once

#include <cstdint>
#include <limits>

namespace graphbias {

// A split plan as the kernels read it. Piece p belongs to split row s = piece_split[p], row
// split_row[s], and is number k = p - split_ptr[s] of that row: it covers entries
// indptr[row] + k * chunk .. min(indptr[row] + (k + 1) * chunk, indptr[row + 1]) - 1.
// The default plan splits nothing.
struct SplitPlan {
  int64_t chunk = std::numeric_limits<int64_t>::max();
  const int64_t* split_row = nullptr;    // [splits]
  const int64_t* split_ptr = nullptr;    // [splits + 1]
  const int64_t* piece_split = nullptr;  // [pieces]
  int64_t splits = 0;
  int64_t pieces = 0;
};

struct Piece {
  int64_t row, lo, hi;
};

__host__ __device__ inline Piece piece_of(const SplitPlan& plan, const int64_t* indptr,
                                          int64_t p) {
  const int64_t s = plan.piece_split[p], row = plan.split_row[s];
  const int64_t lo = indptr[row] + (p - plan.split_ptr[s]) * plan.chunk;
  const int64_t end = indptr[row + 1];
  return {row, lo, end - lo < plan.chunk ? end : lo + plan.chunk};
}

}  // namespace graphbias
