// The decoder step's one-query attention per head.
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#include "simd/nn_softmax.h"

namespace aiayn {
namespace {

/** See VMath::attendRow. */
void attendRowLoop(const float* q, const float* k, const float* v, int64_t ld, int64_t n, int64_t dk, float scale,
                   const float* mask, float* scores, float* out) {
  for (int64_t j = 0; j < n; j++) {
    const float* kj = k + j * ld;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t p = 0; p < dk; p++) s += q[p] * kj[p];
    scores[j] = s;
  }
  softmaxRowLoop(scores, mask, 1, n, scale, false, scores);
  for (int64_t p = 0; p < dk; p++) out[p] = 0.0f;
  for (int64_t j = 0; j < n; j++) {
    const float w = scores[j];
    const float* vj = v + j * ld;
#pragma omp simd
    for (int64_t p = 0; p < dk; p++) out[p] += w * vj[p];
  }
}

}  // namespace
}  // namespace aiayn
