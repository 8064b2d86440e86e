// Compile-time dispatch on the reduction, so each kernel's inner loop is specialised.
#pragma once

#include <type_traits>

#include "../common.h"

namespace graphbias {

template <Reduce R>
using ReduceTag = std::integral_constant<Reduce, R>;

template <typename F>
void dispatch_reduce(Reduce r, F&& body) {
  switch (r) {
    case Reduce::Sum: body(ReduceTag<Reduce::Sum>{}); break;
    case Reduce::Mean: body(ReduceTag<Reduce::Mean>{}); break;
    case Reduce::Max: body(ReduceTag<Reduce::Max>{}); break;
    case Reduce::Min: body(ReduceTag<Reduce::Min>{}); break;
  }
}

// acc <- acc (+) m for one element; records the winning position for max / min.
template <Reduce R, typename acc_t>
inline void accumulate(acc_t& acc, int64_t& best, acc_t m, int64_t pos) {
  if constexpr (R == Reduce::Sum || R == Reduce::Mean) {
    acc += m;
  } else if constexpr (R == Reduce::Max) {
    if (m > acc || best < 0) { acc = m; best = pos; }
  } else {
    if (m < acc || best < 0) { acc = m; best = pos; }
  }
}

}  // namespace graphbias
