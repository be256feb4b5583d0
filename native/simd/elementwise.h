// Vectorised unary loops of the elementwise kernels (exp and sigmoid on vexp).
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#include "simd/vexp.h"

namespace aiayn {
namespace {

/** See VMath::exp. */
void expLoop(const float* x, float* out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) out[i] = static_cast<float>(vexp(x[i]));
}

/** See VMath::sigmoid. */
void sigmoidLoop(const float* x, float* out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) out[i] = static_cast<float>(1.0 / (1.0 + vexp(-static_cast<double>(x[i]))));
}

}  // namespace
}  // namespace aiayn
