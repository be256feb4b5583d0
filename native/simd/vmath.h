// The vectorised loops of every kernel family, compiled once per instruction set (baseline, AVX2+FMA, AVX-512) and
// chosen at run time with __builtin_cpu_supports, so the addon runs on any x86-64 yet uses the vector units it finds.
// Their bodies: one header per family in simd/ (simd/table.h includes them and fills the table).
#pragma once

#include <cstdint>

namespace aiayn {

struct AdamScalars;
struct AttentionPair;
struct LayerNormRows;
struct PackedGemmArgs;
struct SmallGemmArgs;

/** One instruction-set variant of the vectorised loops. */
struct VMath {
  const char* name;
  /** Generators drawKeepWords runs side by side (32-bit lanes of the widest vector). */
  int keepLanes;
  /**
   * Whether smallGemmNT has the single-row kernel (AVX-512: 16 outputs a block, cache-line-aligned loads of W),
   * used for one row when k and ldw are multiples of oneRowAlign.
   */
  bool oneRowKernel;
  int64_t oneRowAlign;
  /** out[i] = exp(x[i]). */
  void (*exp)(const float* x, float* out, int64_t n);
  /** out[i] = 1 / (1 + exp(-x[i])). */
  void (*sigmoid)(const float* x, float* out, int64_t n);
  /** out[i] = GELU's tanh approximation 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3). */
  void (*geluTanh)(const float* x, float* out, int64_t n);
  /** dx[i] = dy[i] * d/dx geluTanh(x[i]) = dy[i] (s + 2 x s (1 - s) u'(x)), s = sigmoid(2u). */
  void (*geluTanhGrad)(const float* x, const float* dy, float* dx, int64_t n);
  /**
   * One row of softmax (log: log-softmax) of scale * x + mask, mask read at mask[j * maskStride] (nullptr:
   * none); float exps, double sum; a row masked out entirely gives NaNs, as the TypeScript oracle does.
   */
  void (*softmaxRow)(const float* x, const float* mask, int64_t maskStride, int64_t n, float scale, bool log, float* out);
  /** One row of softmax's backward: dx = scale * (log ? dy - exp(y) * Σdy : y * (dy - Σ dy * y)). */
  void (*softmaxGradRow)(const float* y, const float* dy, int64_t n, double scale, bool log, float* dx);
  /**
   * sum = Σ exp(l[j] - mx) and all = Σ l[j] over a row of logits whose max is mx (float exps, float sums over
   * chunks added in double); the exps also go to e[j] unless e is null.
   */
  void (*ceStats)(const float* l, int64_t n, double mx, double* sum, double* all, float* e);
  /** The largest of l[0..n) (NaNs skipped; -inf when there is none). */
  float (*rowMax)(const float* l, int64_t n);
  /** z[j] = l[j] + bias[j] (bias nullptr: a copy of l) over a row; returns the largest z (NaNs skipped; -inf when none). */
  float (*biasRowMax)(const float* l, const float* bias, int64_t n, float* z);
  /**
   * d[j] = a * d[j] - b in place (turns stored exps into the cross-entropy gradient), then acc[j] += d[j]
   * unless acc is null (column sums, a row at a time).
   */
  void (*scaleShift)(float* d, int64_t n, float a, float b, float* acc);
  /** One Adam step over n parameters (see kernels/nn_adam.cc); c1, c2 are the bias corrections. */
  void (*adam)(float* param, const float* grad, float* m, float* v, int64_t n, const AdamScalars& a);
  /** Columns [j0, j1) of out = alpha * A W^T + beta * out + bias for a few rows of A; see SmallGemmArgs. */
  void (*smallGemmNT)(const SmallGemmArgs& g, int64_t j0, int64_t j1);
  /**
   * c = a b for a = [m, k] read as a[i * ai + p * ap] (any layout: its elements are broadcast), b row-major
   * [k, n] with leading dimension ldb and c [m, n] with ldc (columns past the last whole vector one at a time):
   * the inner product of small batched GEMMs (attention), kernels/gemm.cc packing b when it is stored transposed.
   */
  void (*packedGemm)(const PackedGemmArgs& g);
  /** out[p * ldo + j] = b[j * ldb + p] for j < n, p < k: a transposed copy (gathers where the target has them). */
  void (*transpose)(const float* b, int64_t ldb, int64_t n, int64_t k, float* out, int64_t ldo);
  /** LayerNorm forward over rows [r0, r1); see LayerNormRows. */
  void (*layerNormRows)(const LayerNormRows& a, int64_t r0, int64_t r1);
  /** LayerNorm backward over rows [r0, r1) in float, adding this range's dgamma and dbeta terms into pg and pb. */
  void (*layerNormBackwardRows)(const LayerNormRows& a, int64_t r0, int64_t r1, float* pg, float* pb);
  /** out[i] = Σ_j x[j * ld + i] for i < len <= 64, j < n, accumulated in double. */
  void (*sumColumns)(const float* x, int64_t n, int64_t ld, int64_t len, float* out);
  /**
   * Dropout keep bits from keepLanes xoshiro128** generators at once: `states` holds word w of lane l's state at
   * states[w * keepLanes + l] (advanced in place); lane l draws words x 32 values, setting bit j of
   * out[l * laneStride + i] when draw 32 i + j is >= drop.
   */
  void (*drawKeepWords)(uint32_t* states, int64_t words, uint32_t drop, int32_t* out, int64_t laneStride);
  /**
   * dx[i] = dy[i] * (bit i & 31 of bits[i >> 5] ? keep : 0) for whole 32-element words [w0, w1): dropout's
   * output and its gradient (variable shifts make this a vector loop from AVX2 on). With `relu` (the forward of
   * dropout(ReLU(x)), dy = x), each word first keeps only the bits of elements > 0, and the others get +0.
   */
  void (*dropoutGradWords)(const float* dy, int32_t* bits, float keep, int64_t w0, int64_t w1, bool relu, float* dx);
  /**
   * One query of eq. (1): out[dk] = softmax(scale * K q + mask) V over n keys, rows of K and V ld apart, mask
   * additive (nullptr: none); scores (n floats) is scratch. Incremental decoding's attention for one head.
   */
  void (*attendRow)(const float* q, const float* k, const float* v, int64_t ld, int64_t n, int64_t dk, float scale,
                    const float* mask, float* scores, float* out);
  /** probs = softmax(scale * Q K^T + mask) for one (batch, head) pair; see AttentionPair. */
  void (*attentionScoresPair)(const AttentionPair& a);
  /** dQ, dK, dV of one (batch, head) pair from probs, the keep bits and dOut; see AttentionPair. */
  void (*attentionBackwardPair)(const AttentionPair& a);
};

/**
 * The leading dimension of an AttentionPair's rows of tk scores in scratch: whole 16-float vectors and one more, so
 * that rows never lie a multiple of 4 KB apart (at tk = 1024 they would share a few cache sets and evict one another
 * when a product walks down a column).
 */
inline int64_t attentionLd(int64_t tk) { return (tk + 15) / 16 * 16 + 16; }

/**
 * Floats of scratch an AttentionPair needs: a transposed K or V, the scores or dP of every query row, the weights
 * after dropout (rows of attentionLd each), and the gathered rows: K (scores); Q, K, V, dOut (backward).
 */
inline int64_t attentionScratch(int64_t tq, int64_t tk, int64_t dK, int64_t dV) {
  return ((dK > dV ? dK : dV) + 2 * tq) * attentionLd(tk) + (tq + tk) * dK + tq * dV;
}

/**
 * One (batch, head) pair of eq. (1): query i at q + i * ldq (dK values), key j at k + j * ldk, value j at
 * v + j * ldv (dV values); mask element (i, j) at mask[i * maskRow + j * maskCol] (nullptr: none); probs
 * [tq, tk] dense. The backward also reads the keep bits (bit bitBase + i * tk + j; nullptr: no dropout, keep
 * 1) and dOut row i at dOut + i * ldo, and writes dq, dk, dv rows with their own leading dimensions. scratch
 * holds attentionScratch(tq, tk, dK, dV) floats.
 */
struct AttentionPair {
  const float* q; int64_t ldq;
  const float* k; int64_t ldk;
  const float* v; int64_t ldv;
  int64_t tq, tk, dK, dV;
  float scale;
  const float* mask; int64_t maskRow, maskCol;
  float* probs;
  const int32_t* keepBits; int64_t bitBase; float keep;
  const float* dOut; int64_t ldo;
  float* dq; int64_t lddq;
  float* dk; int64_t lddk;
  float* dv; int64_t lddv;
  float* scratch;
};

/**
 * Operands of LayerNorm over rows of `cols` values: the forward reads x, gamma, beta and writes out, mean and
 * rstd (1 / sqrt(biased variance + eps)); the backward reads x, gamma, mean, rstd and dy and writes dx.
 */
struct LayerNormRows {
  const float* x;
  const float* gamma;
  const float* beta;
  int64_t cols;
  double eps;
  float* out;
  float* mean;
  float* rstd;
  const float* dy;
  float* dx;
};

/**
 * A GEMM with a short, wide left operand and the right one stored transposed, as in x W^T for a Linear
 * weight W [n, k]: out[i, j] = alpha * sum_p a[i, p] w[j, p] + beta * out[i, j] + bias[j], i < m. Each output is
 * one dot product of two contiguous rows, so nothing is packed; that is what decoding a few tokens needs.
 */
struct SmallGemmArgs {
  const float* a;
  int64_t lda;
  const float* w;
  int64_t ldw;
  const float* bias;  // nullptr: none
  float* out;
  int64_t ldc;
  int64_t m, k;
  float alpha, beta;
};

/** Operands of VMath::packedGemm. */
struct PackedGemmArgs {
  const float* a;
  int64_t ai, ap;  // element strides of a's rows and columns
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  int64_t m, n, k;
};

/** Scalars of one Adam step. */
struct AdamScalars {
  double lr, beta1, beta2, eps, weightDecay, c1, c2;
  bool l2, decay;
};

extern const VMath kVMathBaseline;
extern const VMath kVMathAvx2;
extern const VMath kVMathAvx512;

/** The variant in use (the widest this CPU supports unless setSimd chose another). */
const VMath& vmath();
/**
 * Selects a variant by name ('baseline', 'avx2', 'avx512'), capped at what the CPU supports; returns the name
 * chosen, or nullptr for an unknown name.
 */
const char* setSimd(const char* name);

}  // namespace aiayn
