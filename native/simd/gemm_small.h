// smallGemmNT: x W^T for a few rows, register-blocked dot products in the widest vectors of the target.
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#include "simd/gemm_small_avx512.h"
#include "simd/vec.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

#if defined(__AVX512F__)
constexpr int kBlockN = 4;  // 4 x 4 accumulators + 5 operands fit the 32 zmm registers
#elif defined(__AVX2__)
constexpr int kBlockN = 2;  // 16 ymm registers
#else
constexpr int kBlockN = 2;
#endif
constexpr int kBlockM = 4;

#if defined(__AVX512F__)
/**
 * The 4 x 4 outputs of dotBlock from its accumulators: one transpose-and-add tree leaves lane 4i + j holding the
 * sum of acc[i][j] (45 instructions where 16 separate lane sums take about 130), then scaling, beta and bias as
 * vectors and one 4-float store per row.
 */
inline void storeBlock4x4(const SmallGemmArgs& g, const Vec (&acc)[4][4], float* out, const float* bias) {
  const __m512 r01 = halfSums(quadSums(acc[0][0], acc[0][1], acc[0][2], acc[0][3]),
                              quadSums(acc[1][0], acc[1][1], acc[1][2], acc[1][3]));
  const __m512 r23 = halfSums(quadSums(acc[2][0], acc[2][1], acc[2][2], acc[2][3]),
                              quadSums(acc[3][0], acc[3][1], acc[3][2], acc[3][3]));
  __m512 r = _mm512_mul_ps(halfSums(r01, r23), _mm512_set1_ps(g.alpha));
  if (g.beta != 0.0f) {
    __m512 old = _mm512_castps128_ps512(_mm_loadu_ps(out));
    old = _mm512_insertf32x4(old, _mm_loadu_ps(out + g.ldc), 1);
    old = _mm512_insertf32x4(old, _mm_loadu_ps(out + 2 * g.ldc), 2);
    old = _mm512_insertf32x4(old, _mm_loadu_ps(out + 3 * g.ldc), 3);
    r = _mm512_fmadd_ps(old, _mm512_set1_ps(g.beta), r);
  }
  if (bias != nullptr) r = _mm512_add_ps(r, _mm512_broadcast_f32x4(_mm_loadu_ps(bias)));
  _mm_storeu_ps(out, _mm512_castps512_ps128(r));
  _mm_storeu_ps(out + g.ldc, _mm512_extractf32x4_ps(r, 1));
  _mm_storeu_ps(out + 2 * g.ldc, _mm512_extractf32x4_ps(r, 2));
  _mm_storeu_ps(out + 3 * g.ldc, _mm512_extractf32x4_ps(r, 3));
}
#endif

/** An MR x NR block of outputs at rows a, w (each advanced by its leading dimension). */
template <int MR, int NR>
void dotBlock(const SmallGemmArgs& g, const float* a, const float* w, float* out, const float* bias) {
  Vec acc[MR][NR] = {};
  int64_t p = 0;
  for (; p + kLanes <= g.k; p += kLanes) {
    Vec wv[NR];
    for (int j = 0; j < NR; j++) wv[j] = loadVec(w + j * g.ldw + p);
    for (int i = 0; i < MR; i++) {
      const Vec av = loadVec(a + i * g.lda + p);
      for (int j = 0; j < NR; j++) acc[i][j] = fmaVec(av, wv[j], acc[i][j]);
    }
  }
#if defined(__AVX512F__)
  if constexpr (MR == 4 && NR == 4) {
    if (p == g.k) return storeBlock4x4(g, acc, out, bias);
  }
#endif
  for (int i = 0; i < MR; i++) {
    for (int j = 0; j < NR; j++) {
      float s = sumLanes(acc[i][j]);
      for (int64_t q = p; q < g.k; q++) s += a[i * g.lda + q] * w[j * g.ldw + q];
      float& o = out[i * g.ldc + j];
      o = g.alpha * s + (g.beta == 0.0f ? 0.0f : g.beta * o) + (bias == nullptr ? 0.0f : bias[j]);
    }
  }
}

/** dotBlock with the block size chosen at run time (tails of m and n). */
template <int NR>
void dotBlockRows(const SmallGemmArgs& g, int64_t i, int64_t j) {
  const float* a = g.a + i * g.lda;
  const float* w = g.w + j * g.ldw;
  float* out = g.out + i * g.ldc + j;
  const float* bias = g.bias == nullptr ? nullptr : g.bias + j;
  switch (g.m - i < kBlockM ? g.m - i : kBlockM) {
    case 1: dotBlock<1, NR>(g, a, w, out, bias); break;
    case 2: dotBlock<2, NR>(g, a, w, out, bias); break;
    case 3: dotBlock<3, NR>(g, a, w, out, bias); break;
    default: dotBlock<kBlockM, NR>(g, a, w, out, bias); break;
  }
}

/** See VMath::oneRowKernel. */
#if defined(__AVX512F__)
constexpr bool kOneRowKernel = true;
#else
constexpr bool kOneRowKernel = false;
#endif

/** See VMath::smallGemmNT. Blocks of W rows outer, so each block stays in L1 while every row of A passes. */
void smallGemmNTLoop(const SmallGemmArgs& g, int64_t j0, int64_t j1) {
  int64_t j = j0;
#if defined(__AVX512F__)
  if (g.m == 1 && g.k % kLanes == 0 && g.ldw % kLanes == 0) {  // see VMath::oneRowKernel
    for (; j + 16 <= j1; j += 16) dotRow16(g, j);
  }
  // Rows enough to fill most lanes, columns enough to repay the transpose of A, and W rows not a multiple of
  // 4 KB apart (16 of them would share one 12-way L1 set; BENCHMARKS.md, "Measurements behind the native code").
  if (g.m > 8 && g.m <= 16 && j1 - j >= 64 && g.ldw % 1024 != 0) j = broadcastColumns(g, j, j1);
#endif
  for (; j + kBlockN <= j1; j += kBlockN) {
    for (int64_t i = 0; i < g.m; i += kBlockM) dotBlockRows<kBlockN>(g, i, j);
  }
  for (; j < j1; j++) {
    for (int64_t i = 0; i < g.m; i += kBlockM) dotBlockRows<1>(g, i, j);
  }
}

}  // namespace
}  // namespace aiayn
