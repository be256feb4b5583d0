// Column sums of the reductions, accumulated in double.
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

namespace aiayn {
namespace {

/** See VMath::sumColumns. */
void sumColumnsLoop(const float* x, int64_t n, int64_t ld, int64_t len, float* out) {
  double acc[64] = {};
  if (len == 64) {  // a constant trip count keeps the accumulators in registers
    for (int64_t j = 0; j < n; j++) {
#pragma omp simd
      for (int64_t i = 0; i < 64; i++) acc[i] += x[j * ld + i];
    }
  } else {
    for (int64_t j = 0; j < n; j++) {
#pragma omp simd
      for (int64_t i = 0; i < len; i++) acc[i] += x[j * ld + i];
    }
  }
  for (int64_t i = 0; i < len; i++) out[i] = static_cast<float>(acc[i]);
}

}  // namespace
}  // namespace aiayn
