// Splits CSR rows into chunks of about equal work (entries plus rows), so that
// power-law graphs keep both threads busy. The split depends only on the input,
// never on timing: results are deterministic.
#pragma once

#include <ATen/Parallel.h>
#include <algorithm>
#include <vector>

namespace graphbias {

// Calls body(row_begin, row_end) over balanced row ranges, in parallel.
template <typename F>
void parallel_rows(const int64_t* indptr, int64_t rows, int64_t cols_per_row, F body) {
  if (rows == 0) return;
  const int64_t nnz = indptr[rows];
  const int64_t work = (nnz + rows) * std::max<int64_t>(cols_per_row, 1);
  const int64_t threads = at::get_num_threads();
  // enough chunks to balance, each big enough to amortise scheduling
  int64_t chunks = std::min<int64_t>(rows, std::max<int64_t>(1, std::min<int64_t>(
                                                 threads * 8, work / 32768)));
  std::vector<int64_t> bounds(chunks + 1, rows);
  bounds[0] = 0;
  for (int64_t c = 1; c < chunks; ++c) {
    // first row whose cumulative (entries + rows) reaches c / chunks of the total
    const double target = double(nnz + rows) * c / chunks;
    int64_t lo = bounds[c - 1], hi = rows;
    while (lo < hi) {
      int64_t mid = (lo + hi) / 2;
      if (double(indptr[mid] + mid) < target) lo = mid + 1; else hi = mid;
    }
    bounds[c] = lo;
  }
  at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c)
      if (bounds[c] < bounds[c + 1]) body(bounds[c], bounds[c + 1]);
  });
}

}  // namespace graphbias
