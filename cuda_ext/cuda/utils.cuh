// Device helpers shared by the CUDA kernels: lane groups, vector loads, group
// reductions, and products that round as in the CPU kernels.
//
// Row kernels run one group of G lanes (G a power of two, at most a warp) per CSR
// row; a group never straddles a warp, so its lanes can shuffle among themselves
// while other groups of the same warp work on rows of other lengths.
#pragma once

#include <c10/util/Exception.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>
#include <type_traits>

#include "../common.h"

namespace graphbias {

constexpr int kWarp = 32;
constexpr int kBlock = 256;

// Lanes per row for n work items (vectors or columns): the smallest power of two
// >= n, at most a warp.
inline int group_size(int64_t n) {
  int g = 1;
  while (g < kWarp && g < n) g <<= 1;
  return g;
}

// Blocks of kBlock threads covering `threads` threads.
inline unsigned int num_blocks(int64_t threads) {
  const int64_t blocks = (threads + kBlock - 1) / kBlock;
  TORCH_CHECK(blocks <= std::numeric_limits<int>::max(), "graphbias: input too large, ",
              blocks, " CUDA blocks");
  return static_cast<unsigned int>(blocks);
}

// Position of this thread in the row-per-group scheme.
struct Group {
  int64_t row;        // the row (segment) of this group
  int lane;           // 0 .. G-1
  unsigned int mask;  // the group's lanes within the warp, for *_sync shuffles

  __device__ explicit Group(int G) {
    const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    row = t / G;
    lane = int(t % G);
    const int first = int(threadIdx.x % kWarp) / G * G;
    mask = G == kWarp ? 0xffffffffu : ((1u << G) - 1u) << first;
  }
};

// Sum over the G lanes of a group (fixed butterfly, deterministic); every lane
// gets the result.
template <typename T>
__device__ __forceinline__ T group_sum(T v, int G, unsigned int mask) {
  for (int o = G / 2; o > 0; o >>= 1) v += __shfl_xor_sync(mask, v, o, G);
  return v;
}

// V consecutive elements, loaded and stored as one aligned access.
template <typename T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

template <typename T, int V>
__device__ __forceinline__ Vec<T, V> load_vec(const T* p) {
  return *reinterpret_cast<const Vec<T, V>*>(p);
}

template <typename T, int V>
__device__ __forceinline__ void store_vec(T* p, const Vec<T, V>& v) {
  *reinterpret_cast<Vec<T, V>*>(p) = v;
}

// Elements per 16-byte vector.
template <typename T>
constexpr int max_vec() {
  return 16 / int(sizeof(T));
}

inline bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Calls body(std::integral_constant<int, V>{}) with V = max_vec<T>() where `vectorise`
// holds (the caller checked widths and alignment), else with V = 1.
template <typename T, typename F>
void dispatch_vec(bool vectorise, F&& body) {
  if (vectorise) {
    body(std::integral_constant<int, max_vec<T>()>{});
  } else {
    body(std::integral_constant<int, 1>{});
  }
}

// Products that the compiler may not fuse into an FMA with a following add, so
// that sums round exactly as in the CPU kernels (which do not fuse either).
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }

// acc <- acc (+) m for entry e of a row, as accumulate() in ../cpu/dispatch.h. For
// max / min, m wins when beats() says so: a NaN propagates (the first NaN of the row
// wins), else only a strictly better m wins, so the first entry reaching the extremum
// wins; best starts at the row's first entry, which thus also wins when none beats
// the initial -inf / +inf.
template <Reduce R, typename acc_t>
__device__ __forceinline__ void fold(acc_t& acc, int64_t& best, acc_t m, int64_t e) {
  if constexpr (R == Reduce::Sum || R == Reduce::Mean) {
    acc += m;
  } else {
    if (beats<R>(m, acc)) { acc = m; best = e; }
  }
}

}  // namespace graphbias
