// smallGemmNT's AVX-512 kernels: the single-row GEMV and the broadcast kernel for 9-16 rows (empty elsewhere).
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>
#include <vector>

#include "simd/vec.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

#if defined(__AVX512F__)
/** Lane i of the result: the sum of acc[i]'s lanes, for 16 accumulators (four storeBlock4x4 trees in one). */
inline __m512 laneSums16(const Vec (&acc)[16]) {
  const __m512 r01 = halfSums(quadSums(acc[0], acc[1], acc[2], acc[3]), quadSums(acc[4], acc[5], acc[6], acc[7]));
  const __m512 r23 = halfSums(quadSums(acc[8], acc[9], acc[10], acc[11]), quadSums(acc[12], acc[13], acc[14], acc[15]));
  return halfSums(r01, r23);
}

/**
 * Outputs j .. j + 15 of a single row (m = 1; k and ldw multiples of 16): W rows in two passes of 8, eight FMA
 * chains streaming eight rows at once, then one transpose-and-add tree for all 16 dot products and one 16-float
 * store. Decoding one token is this product over every weight of the model, read from L3, so the loads of W are
 * 64-byte aligned: a row starting `lead` floats into a cache line is read from that line's start, the lanes
 * outside the row masked off in the first and last chunk (x is read at the same shift). Large Float32Arrays start
 * 16 bytes into a line, and split loads cost half the bandwidth (BENCHMARKS.md, "Measurements behind the native
 * code").
 */
void dotRow16(const SmallGemmArgs& g, int64_t j) {
  const float* w0 = g.w + j * g.ldw;
  const int lead = static_cast<int>((reinterpret_cast<uintptr_t>(w0) % 64) / sizeof(float));
  const __mmask16 head = static_cast<__mmask16>(0xFFFFu << lead);  // lanes of chunk 0 inside the row
  const __mmask16 tail = static_cast<__mmask16>((1u << lead) - 1);  // lanes of chunk k / 16 inside the row
  const float* x = g.a - lead;
  Vec acc[16];
  for (int half = 0; half < 16; half += 8) {
    const float* w = w0 + half * g.ldw - lead;  // 64-byte aligned
    __m512 sum[8];
    __m512 xv = _mm512_maskz_loadu_ps(head, x);
    for (int r = 0; r < 8; r++) sum[r] = _mm512_mul_ps(xv, _mm512_maskz_load_ps(head, w + r * g.ldw));
    for (int64_t p = kLanes; p < g.k; p += kLanes) {
      xv = _mm512_loadu_ps(x + p);
      for (int r = 0; r < 8; r++) sum[r] = _mm512_fmadd_ps(xv, _mm512_load_ps(w + r * g.ldw + p), sum[r]);
    }
    if (lead > 0) {
      xv = _mm512_maskz_loadu_ps(tail, x + g.k);
      for (int r = 0; r < 8; r++) sum[r] = _mm512_fmadd_ps(xv, _mm512_maskz_load_ps(tail, w + r * g.ldw + g.k), sum[r]);
    }
    for (int r = 0; r < 8; r++) acc[half + r] = (Vec)sum[r];
  }
  __m512 r = _mm512_mul_ps(laneSums16(acc), _mm512_set1_ps(g.alpha));
  float* out = g.out + j;
  if (g.beta != 0.0f) r = _mm512_fmadd_ps(_mm512_loadu_ps(out), _mm512_set1_ps(g.beta), r);
  if (g.bias != nullptr) r = _mm512_add_ps(r, _mm512_loadu_ps(g.bias + j));
  _mm512_storeu_ps(out, r);
}

/** Transposes the 16 x 16 block in r (lane j of r[i] becomes lane i of r[j]): 64 shuffles. */
inline void transpose16x16(__m512 (&r)[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {  // per 128-bit quarter: [a0 b0 a1 b1], [a2 b2 a3 b3] of rows a, b
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // r[i + c], quarter q: rows i .. i + 3 at column 4q + c
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int c = 0; c < 4; c++) {  // column 4q + c: quarter q of r[c], r[4 + c], r[8 + c], r[12 + c]
    const __m512 ab01 = _mm512_shuffle_f32x4(r[c], r[4 + c], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 ab23 = _mm512_shuffle_f32x4(r[c], r[4 + c], _MM_SHUFFLE(3, 2, 3, 2));
    const __m512 cd01 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 cd23 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], _MM_SHUFFLE(3, 2, 3, 2));
    t[c] = _mm512_shuffle_f32x4(ab01, cd01, _MM_SHUFFLE(2, 0, 2, 0));
    t[4 + c] = _mm512_shuffle_f32x4(ab01, cd01, _MM_SHUFFLE(3, 1, 3, 1));
    t[8 + c] = _mm512_shuffle_f32x4(ab23, cd23, _MM_SHUFFLE(2, 0, 2, 0));
    t[12 + c] = _mm512_shuffle_f32x4(ab23, cd23, _MM_SHUFFLE(3, 1, 3, 1));
  }
  for (int i = 0; i < 16; i++) r[i] = t[i];
}

/** at (k vectors, 64-byte aligned) = A transposed: lane r of vector p is A[r, p], zero for rows r >= m (m <= 16). */
void transposeRows16(const SmallGemmArgs& g, float* at) {
  for (int64_t p0 = 0; p0 < g.k; p0 += 16) {
    const int64_t cols = g.k - p0 < 16 ? g.k - p0 : 16;
    const __mmask16 inside = static_cast<__mmask16>((1u << cols) - 1);
    __m512 r[16];
    for (int64_t i = 0; i < 16; i++) r[i] = i < g.m ? _mm512_maskz_loadu_ps(inside, g.a + i * g.lda + p0) : _mm512_setzero_ps();
    transpose16x16(r);
    for (int64_t q = 0; q < cols; q++) _mm512_store_ps(at + (p0 + q) * 16, r[q]);
  }
}

/**
 * Outputs of every row (m <= 16) at W rows j .. j + 15 over depths [p0, p1), from A transposed (transposeRows16):
 * W row j + c's 16 dot products build up in one vector, lane r for row r, from broadcasts of its elements, so the
 * sums need no lane reductions (the 4 x 4 dot blocks spend a fifth of their instructions on them at k = 256); one
 * 16 x 16 transpose turns the 16 vectors into output rows, which later depth chunks (p0 > 0) add to.
 */
void broadcastBlock16(const SmallGemmArgs& g, const float* at, int64_t j, int64_t p0, int64_t p1) {
  const float* w = g.w + j * g.ldw;
  __m512 acc[16];
  for (int c = 0; c < 16; c++) acc[c] = _mm512_setzero_ps();
  for (int64_t p = p0; p < p1; p++) {
    const __m512 av = _mm512_load_ps(at + p * 16);
    for (int c = 0; c < 16; c++) acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(w[c * g.ldw + p]), av, acc[c]);
  }
  transpose16x16(acc);  // lane c of acc[r]: out[r, j + c]
  const __m512 alpha = _mm512_set1_ps(g.alpha);
  for (int64_t r = 0; r < g.m; r++) {
    float* out = g.out + r * g.ldc + j;
    __m512 v;
    if (p0 > 0) {
      v = _mm512_fmadd_ps(acc[r], alpha, _mm512_loadu_ps(out));
    } else {
      v = _mm512_mul_ps(acc[r], alpha);
      if (g.beta != 0.0f) v = _mm512_fmadd_ps(_mm512_loadu_ps(out), _mm512_set1_ps(g.beta), v);
      if (g.bias != nullptr) v = _mm512_add_ps(v, _mm512_loadu_ps(g.bias + j));
    }
    _mm512_storeu_ps(out, v);
  }
}

/**
 * Columns [j, j1) in blocks of 16 by broadcastBlock16, depth in chunks of 256 so a chunk of A transposed and of
 * 16 W rows (16 KB each) stay in L1 across the blocks; returns where it stopped (the caller takes the rest).
 */
int64_t broadcastColumns(const SmallGemmArgs& g, int64_t j, int64_t j1) {
  constexpr int64_t kDepthChunk = 256;
  static thread_local std::vector<float> scratch;
  scratch.resize(g.k * 16 + 16);
  float* at = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t(63));
  transposeRows16(g, at);
  const int64_t end = j + (j1 - j) / 16 * 16;
  for (int64_t p0 = 0; p0 < g.k; p0 += kDepthChunk) {
    const int64_t p1 = g.k - p0 < kDepthChunk ? g.k : p0 + kDepthChunk;
    for (int64_t jb = j; jb < end; jb += 16) broadcastBlock16(g, at, jb, p0, p1);
  }
  return end;
}
#endif

}  // namespace
}  // namespace aiayn
