// The vector type of the target and its helpers: loads, FMAs, lane sums, broadcasts.
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace aiayn {
namespace {

#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX2__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif

/** A vector of kLanes floats (GCC vector type: the widest the target has). */
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));

/** The kLanes floats at p (no alignment needed). */
inline Vec loadVec(const float* p) {
  Vec v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

/** acc + x * y, fused where the target has FMA. */
inline Vec fmaVec(Vec x, Vec y, Vec acc) {
#if defined(__AVX512F__)
  return (Vec)_mm512_fmadd_ps((__m512)x, (__m512)y, (__m512)acc);
#elif defined(__FMA__)
  return (Vec)_mm256_fmadd_ps((__m256)x, (__m256)y, (__m256)acc);
#else
  return acc + x * y;
#endif
}

/** The sum of a vector's lanes (a shuffle tree where the target has one). */
inline float sumLanes(Vec v) {
#if defined(__AVX512F__)
  return _mm512_reduce_add_ps((__m512)v);
#elif defined(__AVX2__)
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128((__m256)v), _mm256_extractf128_ps((__m256)v, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
#else
  float s = 0.0f;
  for (int l = 0; l < kLanes; l++) s += v[l];
  return s;
#endif
}

#if defined(__AVX512F__)
/** Sums of x and y (16 lanes each) as [x0+x2, y0+y2, x1+x3, y1+y3] within every 128-bit quarter. */
inline __m512 pairSums(Vec x, Vec y) {
  return _mm512_add_ps(_mm512_unpacklo_ps((__m512)x, (__m512)y), _mm512_unpackhi_ps((__m512)x, (__m512)y));
}

/** Quarter q of the result holds partial sums of x, y, z, w (in that order) over quarter q of their lanes. */
inline __m512 quadSums(Vec x, Vec y, Vec z, Vec w) {
  const __m512 xy = pairSums(x, y);
  const __m512 zw = pairSums(z, w);
  return _mm512_add_ps(_mm512_shuffle_ps(xy, zw, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_ps(xy, zw, _MM_SHUFFLE(3, 2, 3, 2)));
}

/** Adds quarters pairwise across two quadSums results: [a.q0+a.q1, a.q2+a.q3, b.q0+b.q1, b.q2+b.q3]. */
inline __m512 halfSums(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}
#endif

/** A vector with every lane x. */
inline Vec splat(float x) {
#if defined(__AVX512F__)
  return (Vec)_mm512_set1_ps(x);  // one vbroadcastss (zero + x compiled to an add and a broadcast)
#elif defined(__AVX2__)
  return (Vec)_mm256_set1_ps(x);
#else
  const Vec zero = {};
  return zero + x;
#endif
}

/** n rounded up to whole vectors. */
inline int64_t vecCeil(int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

/** Elements summed in float lanes before the partial sum joins a double total (softmax and loss rows). */
constexpr int64_t kFloatChunk = 256;

}  // namespace
}  // namespace aiayn
