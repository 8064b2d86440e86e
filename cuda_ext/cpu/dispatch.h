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

// acc <- acc (+) m for one element; for max / min also the winner, relative to the
// segment start (see beats(): a NaN propagates, else the first entry reaching the
// extremum wins). Branch-free, so loops over columns vectorise.
template <Reduce R, typename acc_t>
inline void accumulate(acc_t& acc, int32_t& best, acc_t m, int32_t rel) {
  if constexpr (R == Reduce::Sum || R == Reduce::Mean) {
    acc += m;
  } else {
    const bool win = beats<R>(m, acc);
    acc = win ? m : acc;
    best = win ? rel : best;
  }
}

}  // namespace graphbias
