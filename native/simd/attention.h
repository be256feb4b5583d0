// Attention over one (batch, head) pair: the weights and the backward, on the packed GEMM.
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#include "simd/gemm_packed.h"
#include "simd/vec.h"
#include "simd/vexp.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

/**
 * dst[r * d + p] = src[r * ld + p]: a pair's rows copied together before they are read again and again. Rows of
 * the larger models' projections lie a multiple of 2 KB apart, so in place they share a handful of L1 cache sets
 * and evict one another (BENCHMARKS.md, "Measurements behind the native code").
 */
inline void gatherRows(const float* src, int64_t ld, int64_t rows, int64_t d, float* dst) {
  for (int64_t r = 0; r < rows; r++) __builtin_memcpy(dst + r * d, src + r * ld, sizeof(float) * d);
}

/** mt[p * np + j] = m[j * ld + p] for n rows of d values, np = vecCeil(n): transposeLoop's tiles, the padding zeroed. */
inline void transposeRows(const float* m, int64_t ld, int64_t n, int64_t d, float* mt) {
  const int64_t np = vecCeil(n);
  transposeLoop(m, ld, n, d, mt, np);
  for (int64_t p = 0; p < d; p++) {
    for (int64_t j = n; j < np; j++) mt[p * np + j] = 0.0f;
  }
}

/**
 * out[0, n) = softmax(scale * s + mask) for a row of scores padded to np (whole vectors), mask element j at
 * mask[j * maskCol] (nullptr: none); the padding becomes -inf, so the exps run on whole vectors, never a scalar tail.
 */
void softmaxPaddedRow(float* s, int64_t n, int64_t np, const float* mask, int64_t maskCol, float scale, float* out) {
#pragma omp simd
  for (int64_t j = 0; j < np; j++) s[j] *= scale;
  if (mask != nullptr) {
#pragma omp simd
    for (int64_t j = 0; j < n; j++) s[j] += mask[j * maskCol];
  }
  for (int64_t j = n; j < np; j++) s[j] = -__builtin_inff();
  Vec top = splat(-__builtin_inff());
  for (int64_t j = 0; j < np; j += kLanes) {
    const Vec x = loadVec(s + j);
    top = x > top ? x : top;  // NaNs skipped, as softmaxRow's max skips them
  }
  float mx = -__builtin_inff();
  for (int l = 0; l < kLanes; l++) mx = top[l] > mx ? top[l] : mx;
  if (mx == -__builtin_inff()) mx = 0.0f;  // every entry masked: the row sums to 0 and gives NaNs, as softmaxRow does
#pragma omp simd
  for (int64_t j = 0; j < np; j++) s[j] = vexpf(s[j] - mx);
  Vec sum = {};
  for (int64_t j = 0; j < np; j += kLanes) sum += loadVec(s + j);
  const float inv = 1.0f / sumLanes(sum);
#pragma omp simd
  for (int64_t j = 0; j < n; j++) out[j] = s[j] * inv;
}

/** See VMath::attentionScoresPair: K transposed once, Q K^T as one register-blocked product, then a softmax per row. */
void attentionScoresPairLoop(const AttentionPair& a) {
  const int64_t np = vecCeil(a.tk);
  float* kt = a.scratch;               // dK x np
  float* scores = kt + a.dK * np;      // tq x np
  transposeRows(a.k, a.ldk, a.tk, a.dK, kt);
  packedGemmLoop({a.q, a.ldq, 1, kt, np, scores, np, a.tq, np, a.dK});  // Q K^T
  for (int64_t i = 0; i < a.tq; i++) {
    softmaxPaddedRow(scores + i * np, a.tk, np, a.mask == nullptr ? nullptr : a.mask + i * a.maskRow, a.maskCol, a.scale,
                     a.probs + i * a.tk);
  }
}

/**
 * Row i of dP and of the weights through dropout: dp[j] *= f_j and pd[j] = p[j] f_j, f_j = keep or 0 by keep bit
 * bitBase + i * tk + j, taken 32 at a time from the two words the window spans.
 */
void dropRow(const AttentionPair& a, int64_t i, const float* p, float* dp, float* pd) {
  const int64_t e0 = a.bitBase + i * a.tk;
  for (int64_t j0 = 0; j0 < a.tk; j0 += 32) {
    const int64_t count = a.tk - j0 < 32 ? a.tk - j0 : 32;
    const int64_t e = e0 + j0;
    const int shift = static_cast<int>(e & 31);
    uint64_t bits = static_cast<uint32_t>(a.keepBits[e >> 5]);
    if (shift + count > 32) bits |= static_cast<uint64_t>(static_cast<uint32_t>(a.keepBits[(e >> 5) + 1])) << 32;
    const uint32_t window = static_cast<uint32_t>(bits >> shift);
#if defined(__AVX512F__)
    const __m512 keep = _mm512_set1_ps(a.keep);
    for (int64_t j = 0; j < count; j += 16) {  // the window's bits are the lanes' mask
      const __mmask16 lanes = static_cast<__mmask16>(count - j >= 16 ? 0xffffu : (1u << (count - j)) - 1u);
      const __mmask16 kept = static_cast<__mmask16>(window >> j) & lanes;
      const __m512 f = _mm512_maskz_mov_ps(kept, keep);
      _mm512_mask_storeu_ps(dp + j0 + j, lanes, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, dp + j0 + j), f));
      _mm512_mask_storeu_ps(pd + j0 + j, lanes, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, p + j0 + j), f));
    }
#else
    for (int64_t j = 0; j < count; j++) {
      const float f = (window >> j) & 1u ? a.keep : 0.0f;
      dp[j0 + j] *= f;
      pd[j0 + j] = p[j0 + j] * f;
    }
#endif
  }
}

/**
 * See VMath::attentionBackwardPair. dP = dOut V^T (V transposed once); per row, dropout and the softmax backward
 * dS = scale P (dP - Σ_j P dP); then dQ = dS K, dK = dS^T Q and dV = dropout(P)^T dOut, each one register-blocked
 * product written straight into the gradient's rows (the transposed operands read by broadcast, never copied).
 */
void attentionBackwardPairLoop(const AttentionPair& a) {
  const int64_t np = vecCeil(a.tk);
  float* vt = a.scratch;               // dV x np
  float* ds = vt + a.dV * np;          // tq x np: dP, then dS
  float* pd = ds + a.tq * np;          // tq x tk: the weights after dropout
  float* q = pd + a.tq * a.tk;         // tq x dK, the pair's rows gathered (each is read again and again)
  float* k = q + a.tq * a.dK;          // tk x dK
  float* go = k + a.tk * a.dK;         // tq x dV
  gatherRows(a.q, a.ldq, a.tq, a.dK, q);
  gatherRows(a.k, a.ldk, a.tk, a.dK, k);
  gatherRows(a.dOut, a.ldo, a.tq, a.dV, go);
  transposeRows(a.v, a.ldv, a.tk, a.dV, vt);
  packedGemmLoop({go, a.dV, 1, vt, np, ds, np, a.tq, np, a.dV});  // dP = dOut V^T
  const float* weights = a.keepBits == nullptr ? a.probs : pd;
  for (int64_t i = 0; i < a.tq; i++) {
    const float* pi = a.probs + i * a.tk;
    float* di = ds + i * np;
    if (a.keepBits != nullptr) dropRow(a, i, pi, di, pd + i * a.tk);
    double dot = 0.0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < a.tk; j++) dot += static_cast<double>(pi[j]) * di[j];
    const float d = static_cast<float>(dot);
#pragma omp simd
    for (int64_t j = 0; j < a.tk; j++) di[j] = a.scale * pi[j] * (di[j] - d);  // dS: softmax backward, the scores' scale
  }
  packedGemmLoop({ds, np, 1, k, a.dK, a.dq, a.lddq, a.tq, a.dK, a.tk});        // dQ = dS K
  packedGemmLoop({ds, 1, np, q, a.dK, a.dk, a.lddk, a.tk, a.dK, a.tq});        // dK = dS^T Q
  packedGemmLoop({weights, 1, a.tk, go, a.dV, a.dv, a.lddv, a.tk, a.dV, a.tq});  // dV = dropout(P)^T dOut
}

}  // namespace
}  // namespace aiayn
