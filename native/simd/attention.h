// Attention over one (batch, head) pair: the weights and the backward, on the packed GEMM.
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

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

/** mt[p * ldt + j] = m[j * ld + p] for n rows of d values: transposeLoop's tiles, the padding to vecCeil(n) zeroed. */
inline void transposeRows(const float* m, int64_t ld, int64_t n, int64_t d, float* mt, int64_t ldt) {
  transposeLoop(m, ld, n, d, mt, ldt);
  for (int64_t p = 0; p < d; p++) {
    for (int64_t j = n; j < vecCeil(n); j++) mt[p * ldt + j] = 0.0f;
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

/** n less the run of trailing elements of x[0, n) equal to `value`, checked a whole vector at a time. */
inline int64_t trailingRun(const float* x, int64_t n, float value) {
  const Vec v = splat(value);
  for (; n >= kLanes; n -= kLanes) {
    const Vec y = loadVec(x + n - kLanes);
    bool all = true;
    for (int l = 0; l < kLanes; l++) all = all && y[l] == v[l];
    if (!all) break;
  }
  while (n > 0 && x[n - 1] == value) n--;
  return n;
}

/**
 * Keys past a row's last visible one carry weight exactly 0 (exp(-inf) = 0), so every product below stops there:
 * half the work under a causal mask, the padded tail under right key padding. Row i's limit is one past its last
 * key whose mask is not -inf; tk without a mask, and tk when every key is hidden (the row gives NaNs, as the ts
 * oracle's does).
 */
inline int64_t maskLimit(const AttentionPair& a, int64_t i) {
  if (a.mask == nullptr) return a.tk;
  const float* m = a.mask + i * a.maskRow;
  int64_t n = a.tk;
  if (a.maskCol == 1) n = trailingRun(m, n, -__builtin_inff());
  else while (n > 0 && m[(n - 1) * a.maskCol] == -__builtin_inff()) n--;
  return n == 0 ? a.tk : n;
}

/** The backward's limits from the weights: one past the last nonzero weight of the row (tk when there is none). */
inline int64_t weightLimit(const AttentionPair& a, int64_t i) {
  const int64_t n = trailingRun(a.probs + i * a.tk, a.tk, 0.0f);
  return n == 0 ? a.tk : n;
}

/** Query rows a block of the blocked products (a multiple of the packed GEMM's 8-row kernel), keys likewise. */
constexpr int64_t kRowBlock = 32;

/** The largest limit of rows [i0, i1). */
inline int64_t blockLimit(const int64_t* limit, int64_t i0, int64_t i1) {
  int64_t n = 0;
  for (int64_t i = i0; i < i1; i++) n = limit[i] > n ? limit[i] : n;
  return n;
}

/** Per-thread room for a pair's row limits. */
inline int64_t* rowLimits(int64_t tq) {
  thread_local std::vector<int64_t> limits;
  limits.resize(static_cast<size_t>(tq));
  return limits.data();
}

/**
 * See VMath::attentionScoresPair: K transposed once; per block of query rows, Q K^T as one register-blocked
 * product up to the block's last visible key, then a softmax per row and zeros past the row's limit.
 */
void attentionScoresPairLoop(const AttentionPair& a) {
  const int64_t ld = attentionLd(a.tk);
  float* kt = a.scratch;               // dK x ld
  float* scores = kt + a.dK * ld;      // tq x ld
  int64_t* limit = rowLimits(a.tq);
  for (int64_t i = 0; i < a.tq; i++) limit[i] = maskLimit(a, i);
  transposeRows(a.k, a.ldk, a.tk, a.dK, kt, ld);
  for (int64_t i0 = 0; i0 < a.tq; i0 += kRowBlock) {
    const int64_t i1 = i0 + kRowBlock < a.tq ? i0 + kRowBlock : a.tq;
    const int64_t cols = vecCeil(blockLimit(limit, i0, i1));
    packedGemmLoop({a.q + i0 * a.ldq, a.ldq, 1, kt, ld, scores + i0 * ld, ld, i1 - i0, cols, a.dK});  // Q K^T
    for (int64_t i = i0; i < i1; i++) {
      const int64_t n = limit[i];
      float* out = a.probs + i * a.tk;
      softmaxPaddedRow(scores + i * ld, n, vecCeil(n), a.mask == nullptr ? nullptr : a.mask + i * a.maskRow, a.maskCol, a.scale, out);
      for (int64_t j = n; j < a.tk; j++) out[j] = 0.0f;
    }
  }
}

/**
 * Row i of dP and of the weights through dropout over its first n keys: dp[j] *= f_j and pd[j] = p[j] f_j,
 * f_j = keep or 0 by keep bit bitBase + i * tk + j, taken 32 at a time from the two words the window spans.
 */
void dropRow(const AttentionPair& a, int64_t i, int64_t n, const float* p, float* dp, float* pd) {
  const int64_t e0 = a.bitBase + i * a.tk;
  for (int64_t j0 = 0; j0 < n; j0 += 32) {
    const int64_t count = n - j0 < 32 ? n - j0 : 32;
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
 * See VMath::attentionBackwardPair. Per block of query rows, up to the block's last nonzero weight: dP = dOut V^T
 * (V transposed once); per row, dropout and the softmax backward dS = scale P (dP - Σ_j P dP), zeros past the
 * row's limit; dQ = dS K. Then per block of keys, over the query rows that see any of them: dK = dS^T Q and
 * dV = dropout(P)^T dOut. Each product is one register-blocked call; transposed operands are read by broadcast.
 */
void attentionBackwardPairLoop(const AttentionPair& a) {
  const int64_t ld = attentionLd(a.tk);
  float* vt = a.scratch;               // dV x ld
  float* ds = vt + a.dV * ld;          // tq x ld: dP, then dS
  float* pd = ds + a.tq * ld;          // tq x ld: the weights after dropout (a copy without), zeros past the limits
  float* q = pd + a.tq * ld;           // tq x dK, the pair's rows gathered (each is read again and again)
  float* k = q + a.tq * a.dK;          // tk x dK
  float* go = k + a.tk * a.dK;         // tq x dV
  int64_t* limit = rowLimits(a.tq);
  for (int64_t i = 0; i < a.tq; i++) limit[i] = weightLimit(a, i);
  gatherRows(a.q, a.ldq, a.tq, a.dK, q);
  gatherRows(a.k, a.ldk, a.tk, a.dK, k);
  gatherRows(a.dOut, a.ldo, a.tq, a.dV, go);
  transposeRows(a.v, a.ldv, a.tk, a.dV, vt, ld);
  // The key blocks below read row i up to the end of the block holding `reach`, the largest limit of rows 0..i
  // (a key block takes every row from the first that sees it on); dS and the weights are zeroed that far.
  int64_t reach = 0;
  for (int64_t i0 = 0; i0 < a.tq; i0 += kRowBlock) {
    const int64_t i1 = i0 + kRowBlock < a.tq ? i0 + kRowBlock : a.tq;
    const int64_t keys = blockLimit(limit, i0, i1);
    packedGemmLoop({go + i0 * a.dV, a.dV, 1, vt, ld, ds + i0 * ld, ld, i1 - i0, vecCeil(keys), a.dV});  // dP = dOut V^T
    for (int64_t i = i0; i < i1; i++) {
      const int64_t n = limit[i];
      const float* pi = a.probs + i * a.tk;
      float* di = ds + i * ld;
      float* wi = pd + i * ld;
      if (a.keepBits != nullptr) {
        dropRow(a, i, n, pi, di, wi);
      } else {
        __builtin_memcpy(wi, pi, sizeof(float) * n);
      }
      double dot = 0.0;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < n; j++) dot += static_cast<double>(pi[j]) * di[j];
      const float d = static_cast<float>(dot);
#pragma omp simd
      for (int64_t j = 0; j < n; j++) di[j] = a.scale * pi[j] * (di[j] - d);  // dS: softmax backward, the scores' scale
      reach = std::max(reach, n);
      const int64_t read = std::min(a.tk, std::max(keys, (reach + kRowBlock - 1) / kRowBlock * kRowBlock));  // dQ reads to keys
      for (int64_t j = n; j < read; j++) di[j] = wi[j] = 0.0f;
    }
    packedGemmLoop({ds + i0 * ld, ld, 1, k, a.dK, a.dq + i0 * a.lddq, a.lddq, i1 - i0, a.dK, keys});  // dQ = dS K
  }
  int64_t r0 = 0;  // rows before r0 see none of keys j0.. (their dS and weights there are 0)
  for (int64_t j0 = 0; j0 < a.tk; j0 += kRowBlock) {
    const int64_t j1 = j0 + kRowBlock < a.tk ? j0 + kRowBlock : a.tk;
    while (r0 < a.tq && limit[r0] <= j0) r0++;
    const int64_t rows = a.tq - r0;
    packedGemmLoop({ds + r0 * ld + j0, 1, ld, q + r0 * a.dK, a.dK, a.dk + j0 * a.lddk, a.lddk, j1 - j0, a.dK, rows});  // dK = dS^T Q
    packedGemmLoop({pd + r0 * ld + j0, 1, ld, go + r0 * a.dV, a.dV, a.dv + j0 * a.lddv, a.lddv, j1 - j0, a.dV, rows});  // dV = dropout(P)^T dOut
  }
}

}  // namespace
}  // namespace aiayn
