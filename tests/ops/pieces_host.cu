// Runs piece_of (cuda_ext/cuda/pieces.cuh), the piece arithmetic of the split CUDA
// kernels, on the host. Reads plans from stdin, one per line:
//   chunk R S P  indptr[R + 1]  split_row[S]  split_ptr[S + 1]  piece_split[P]
// and prints one line per plan: row lo hi of every piece, in piece order.
#include <cstdio>
#include <vector>

#include "cuda/pieces.cuh"

namespace {

bool read(std::vector<int64_t>& v, long long n) {
  v.resize(n);
  for (auto& x : v) {
    long long y;
    if (std::scanf("%lld", &y) != 1) return false;
    x = y;
  }
  return true;
}

}  // namespace

int main() {
  long long chunk, rows, splits, pieces;
  while (std::scanf("%lld %lld %lld %lld", &chunk, &rows, &splits, &pieces) == 4) {
    std::vector<int64_t> indptr, split_row, split_ptr, piece_split;
    if (!read(indptr, rows + 1) || !read(split_row, splits) || !read(split_ptr, splits + 1) ||
        !read(piece_split, pieces))
      return 1;
    graphbias::SplitPlan plan;
    plan.chunk = chunk;
    plan.split_row = split_row.data();
    plan.split_ptr = split_ptr.data();
    plan.piece_split = piece_split.data();
    plan.splits = splits;
    plan.pieces = pieces;
    for (int64_t p = 0; p < pieces; ++p) {
      const graphbias::Piece pc = graphbias::piece_of(plan, indptr.data(), p);
      std::printf("%lld %lld %lld ", (long long)pc.row, (long long)pc.lo, (long long)pc.hi);
    }
    std::printf("\n");
  }
  return 0;
}
