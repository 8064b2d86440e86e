// Run-time choice of an AVX2 build of a CPU loop: kernels compile their loop body
// once more under __attribute__((target("avx2"))) where GRAPHBIAS_X86_DISPATCH is set,
// and call it when __builtin_cpu_supports("avx2"). The body must be always inlined
// into that clone (GRAPHBIAS_INLINE) so that it is compiled for AVX2 too.
#pragma once

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define GRAPHBIAS_X86_DISPATCH 1
#define GRAPHBIAS_INLINE __attribute__((always_inline)) inline
#else
#define GRAPHBIAS_X86_DISPATCH 0
#define GRAPHBIAS_INLINE inline
#endif
