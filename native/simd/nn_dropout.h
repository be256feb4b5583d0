// Dropout's vector loops: keep bits from xoshiro128** generators side by side, and bits to scaled lanes.
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#include "simd/vec.h"
#include "simd/xoshiro.h"

namespace aiayn {
namespace {

typedef uint32_t UVec __attribute__((vector_size(kLanes * sizeof(uint32_t))));

/** See VMath::drawKeepWords: xoshiro128** on kLanes states, one per vector lane. */
void drawKeepWordsLoop(uint32_t* states, int64_t words, uint32_t drop, int32_t* out, int64_t laneStride) {
  UVec s0, s1, s2, s3;
  __builtin_memcpy(&s0, states, sizeof(UVec));
  __builtin_memcpy(&s1, states + kLanes, sizeof(UVec));
  __builtin_memcpy(&s2, states + 2 * kLanes, sizeof(UVec));
  __builtin_memcpy(&s3, states + 3 * kLanes, sizeof(UVec));
  const UVec limit = UVec{} + drop;
  for (int64_t w = 0; w < words; w++) {
    UVec bits = {};
    for (int j = 0; j < 32; j++) {
      const UVec result = xoshiro128Step(s0, s1, s2, s3);
      bits |= reinterpret_cast<UVec>(result >= limit) & (1u << j);
    }
    for (int l = 0; l < kLanes; l++) out[l * laneStride + w] = static_cast<int32_t>(bits[l]);
  }
  __builtin_memcpy(states, &s0, sizeof(UVec));
  __builtin_memcpy(states + kLanes, &s1, sizeof(UVec));
  __builtin_memcpy(states + 2 * kLanes, &s2, sizeof(UVec));
  __builtin_memcpy(states + 3 * kLanes, &s3, sizeof(UVec));
}

/** Bit j set where x[j] > 0, for 32 floats (vector compares to a mask where the target has them). */
inline uint32_t positiveBits32(const float* x) {
#if defined(__AVX512F__)
  const __m512 zero = _mm512_setzero_ps();
  return static_cast<uint32_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(x), zero, _CMP_GT_OQ)) |
         static_cast<uint32_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(x + 16), zero, _CMP_GT_OQ)) << 16;
#elif defined(__AVX2__)
  uint32_t bits = 0;
  for (int q = 0; q < 4; q++) {
    const __m256 gt = _mm256_cmp_ps(_mm256_loadu_ps(x + 8 * q), _mm256_setzero_ps(), _CMP_GT_OQ);
    bits |= static_cast<uint32_t>(_mm256_movemask_ps(gt)) << (8 * q);
  }
  return bits;
#else
  uint32_t bits = 0;
  for (int j = 0; j < 32; j++) bits |= static_cast<uint32_t>(x[j] > 0.0f) << j;
  return bits;
#endif
}

/** See VMath::dropoutGradWords. */
void dropoutGradWordsLoop(const float* dy, int32_t* bits, float keep, int64_t w0, int64_t w1, bool relu, float* dx) {
  for (int64_t w = w0; w < w1; w++) {
    const float* d = dy + w * 32;
    float* o = dx + w * 32;
    if (relu) {
      const uint32_t b = static_cast<uint32_t>(bits[w]) & positiveBits32(d);
      bits[w] = static_cast<int32_t>(b);
#pragma omp simd
      for (int j = 0; j < 32; j++) o[j] = (b >> j) & 1u ? d[j] * keep : 0.0f;
    } else {
      const uint32_t b = static_cast<uint32_t>(bits[w]);
#pragma omp simd
      for (int j = 0; j < 32; j++) o[j] = d[j] * ((b >> j) & 1u ? keep : 0.0f);
    }
  }
}

}  // namespace
}  // namespace aiayn
