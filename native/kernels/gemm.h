// Batched GEMM (src/backend/ts/gemm.ts) on oneDNN's row-major dnnl_sgemm (stable across oneDNN 2.x and 3.x) and
// our own kernels for the shapes where those are faster: which one runs is chooseGemmPath's decision (gemm.cc).
#pragma once

#include <cstdint>

namespace aiayn {

/**
 * out[i] = alpha op(A[i]) op(B[i]) + beta out[i] (+ bias row) for i < batch. Matrix i of A starts at
 * a + (i / batchInner) * strideAOuter + (i % batchInner) * strideA (likewise B, and out with strideC,
 * strideCOuter), rows lda / ldb / ldc apart: two batch dims that no single stride walks need no copy.
 */
struct GemmArgs {
  int64_t batch, m, n, k;
  bool transA, transB;
  const float* a;
  int64_t lda, strideA, strideAOuter;
  const float* b;
  int64_t ldb, strideB, strideBOuter;
  float* out;
  int64_t ldc, strideC, strideCOuter;
  int64_t batchInner;
  float alpha, beta;
  /** n values added to every output row (then beta is 0), or nullptr. */
  const float* bias;
};

/** The kernel a product runs on (see chooseGemmPath). */
enum class GemmPath {
  kZeroDepth,        // k = 0: out = beta out + bias, no product
  kSmallRows,        // VMath::smallGemmNT, the columns split over the threads
  kTinyLoops,        // plain loops per matrix, the batch over the threads
  kPacked,           // VMath::packedGemm per matrix, the batch over the threads
  kSgemmPerMatrix,   // one single-threaded dnnl_sgemm per matrix, the batch over the threads
  kSgemmTallOutput,  // dnnl_sgemm on the transposed product, copied back
  kSgemmDeepWeight,  // dnnl_sgemm on B^T copied
  kSgemm,            // dnnl_sgemm per matrix on all threads
};

/**
 * The path g runs on. `linear`: a decoder step's projection (linearRows), which keeps dnnl_sgemm where a general
 * product would take the tiny loops.
 */
GemmPath chooseGemmPath(const GemmArgs& g, bool linear);

/** Whether x W^T for `rows` rows and a weight W [n, k] (rows ldw apart) takes GemmPath::kSmallRows. */
bool linearOnSmallGemm(int64_t rows, int64_t n, int64_t k, int64_t ldw);

/** Raises lda / ldb to the row length where a single stored row makes them meaningless (oneDNN wants them >= it). */
void fixSingleRowLeadingDims(GemmArgs& g);

/** Runs g on chooseGemmPath's kernel; returns dnnl_sgemm's status (0: success). */
int gemm(const GemmArgs& g);

/**
 * out (rows x n) = x W^T + bias for dense x [rows, k] and a Linear weight W [n, k] (bias: nullptr or n values),
 * on chooseGemmPath's kernel for a projection; false when oneDNN fails.
 */
bool linearRows(const float* x, int64_t rows, int64_t k, const float* w, int64_t n, const float* bias, float* out);

/** One dnnl_sgemm call on matrix 0 of g (no batch, bias or routing: a benchmark's reference); returns its status. */
int directSgemm(const GemmArgs& g);

}  // namespace aiayn
