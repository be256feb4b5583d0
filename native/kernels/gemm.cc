// Batched GEMM (see gemm.h): the routing thresholds and chooseGemmPath first, then one function per path and
// runGemm, which dispatches to them.
#include "kernels/gemm.h"

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/parallel.h"
#include "kernels/signals.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

// ---- Routing thresholds: everything chooseGemmPath decides on. The measurements behind them are listed in
// ---- BENCHMARKS.md, "Measurements behind the native code", under GEMM routing.

/**
 * A single product of 1..kSmallRows rows times a transposed operand (x W^T while decoding) takes smallGemmNT when
 * there are threads to split it over: dnnl_sgemm leaves the second thread idle on these short, wide products,
 * packs the whole weight for a few rows and pays a fixed cost per GEMV call. On one thread every product keeps
 * dnnl_sgemm.
 */
constexpr int64_t kSmallRows = 32;

/**
 * Weight elements (n * k) above which a single row goes to dnnl_sgemm unless the single-row kernel applies
 * (VMath::oneRowKernel): without it, smallGemmNT lost to dnnl_sgemm on one row of the large weights.
 */
constexpr int64_t kSmallRowWeights = int64_t(1) << 20;

/**
 * Products of at most this many multiply-adds with at most kSmallRows rows (not A transposed) run on plain loops,
 * the batch spread over the threads: dnnl_sgemm's fixed cost per call exceeds one head's attention for one
 * decoded token (1 x 64 x 32, 2,048 multiply-adds).
 */
constexpr int64_t kTinyGemm = int64_t(1) << 14;

/**
 * Batches of products of at most kPackedGemm multiply-adds and kPackedCols columns (attention's per-head Q K^T,
 * P V and their gradients) run on VMath::packedGemm, one product per thread at a time; dnnl_sgemm spends about as
 * long setting up each of these as computing it.
 */
constexpr int64_t kPackedGemm = int64_t(1) << 18;
constexpr int64_t kPackedCols = 256;

/**
 * Below this many multiply-adds per matrix, a batch of at least one matrix per thread is spread over the threads,
 * one single-threaded dnnl_sgemm each (oneDNN runs sequentially inside a parallel region); above it each GEMM
 * uses all threads itself.
 */
constexpr int64_t kSmallGemm = int64_t(1) << 24;

/**
 * A^T B with a tall, narrow output (m >= kTallOutputRatio n, n <= kTallOutputCols: the weight gradient of a
 * vocabulary projection, [V, d] from [rows, V] and [rows, d]) runs as (B^T A)^T from kTallOutputWork multiply-adds,
 * where the copy back is small beside the product: dnnl_sgemm's kernel is faster on the wide product (at n = 512
 * it was no faster).
 */
constexpr int64_t kTallOutputWork = int64_t(1) << 28;
constexpr int64_t kTallOutputCols = 256;
constexpr int64_t kTallOutputRatio = 16;

/**
 * Rows from which x W^T with a weight at least twice as deep as it is wide (k >= 2n: the FFN's second layer)
 * runs as x (W^T copied): dnnl_sgemm's transposed-B kernel is slower than its plain one on those shapes; with
 * fewer rows the copy does not pay.
 */
constexpr int64_t kTransposeDeepWeightRows = 1024;

/** Below this many multiply-adds (in all) smallGemmNT, the tiny loops and packedGemm stay on one thread. */
constexpr int64_t kSmallGemmGrain = int64_t(1) << 16;

}  // namespace

GemmPath chooseGemmPath(const GemmArgs& g, bool linear) {
  const int64_t work = g.m * g.n * g.k;
  if (g.k == 0) return GemmPath::kZeroDepth;
  // One product only: a batch of small ones (attention over short sentences) is spread over the threads below.
  if (g.batch == 1 && !g.transA && g.transB && linearOnSmallGemm(g.m, g.n, g.k, g.ldb)) return GemmPath::kSmallRows;
  if (!linear && !g.transA && g.m <= kSmallRows && work <= kTinyGemm) return GemmPath::kTinyLoops;
  if (g.batch > 1 && work <= kPackedGemm && g.n <= kPackedCols) return GemmPath::kPacked;
  if (g.batch > 1 && g.batch >= omp_get_max_threads() && work < kSmallGemm) return GemmPath::kSgemmPerMatrix;
  if (g.transA && !g.transB && g.beta == 0.0f && g.bias == nullptr && g.n <= kTallOutputCols && g.m >= kTallOutputRatio * g.n &&
      work >= kTallOutputWork) {
    return GemmPath::kSgemmTallOutput;
  }
  if (!g.transA && g.transB && g.k >= 2 * g.n && g.m >= kTransposeDeepWeightRows) return GemmPath::kSgemmDeepWeight;
  return GemmPath::kSgemm;
}

bool linearOnSmallGemm(int64_t rows, int64_t n, int64_t k, int64_t ldw) {
  const VMath& vm = vmath();
  const bool oneRow = vm.oneRowKernel && k % vm.oneRowAlign == 0 && ldw % vm.oneRowAlign == 0;
  return rows >= 1 && rows <= kSmallRows && (rows > 1 || n * k <= kSmallRowWeights || oneRow) && omp_get_max_threads() > 1;
}

namespace {

/** Matrix i's element offset from matrix 0, for batch strides `inner` (i % batchInner) and `outer`. */
inline int64_t batchOffset(const GemmArgs& g, int64_t i, int64_t inner, int64_t outer) {
  return (i / g.batchInner) * outer + (i % g.batchInner) * inner;
}

/** out (m x n) = alpha * A W^T + beta * out + bias on smallGemmNT, the columns split over the threads. */
void smallGemm(const SmallGemmArgs& g, int64_t n) {
  const VMath& vm = vmath();
  parallelIf(g.m * n * g.k >= kSmallGemmGrain && n > kColumnChunk, [&] {
    int64_t j0, j1;
    teamColumns(n, &j0, &j1);
    if (j0 < j1) vm.smallGemmNT(g, j0, j1);
  });
}

/** out (rows ldc apart) = alpha * A op(B) + beta * out + bias for one tiny product, A not transposed, on the calling thread. */
void tinyGemm(const VMath& vm, const float* a, int64_t lda, const float* b, int64_t ldb, bool tb, const float* bias,
              float* out, int64_t ldc, int64_t m, int64_t n, int64_t k, float alpha, float beta) {
  if (tb) {  // rows of A dotted with rows of B
    vm.smallGemmNT({a, lda, b, ldb, bias, out, ldc, m, k, alpha, beta}, 0, n);
    return;
  }
  for (int64_t i = 0; i < m; i++) {  // row i of out = sum over p of a[i, p] * row p of B
    float* o = out + i * ldc;
#pragma omp simd
    for (int64_t j = 0; j < n; j++) o[j] = (beta == 0.0f ? 0.0f : beta * o[j]) + (bias == nullptr ? 0.0f : bias[j]);
    for (int64_t p = 0; p < k; p++) {
      const float ap = alpha * a[i * lda + p];
      const float* bp = b + p * ldb;
#pragma omp simd
      for (int64_t j = 0; j < n; j++) o[j] += ap * bp[j];
    }
  }
}

/**
 * out (m x n, rows ldc apart) = alpha op(A) op(B) + beta out + bias for one small product on VMath::packedGemm, which reads A in
 * any layout. B is copied into a row-major buffer when stored transposed or when n is not a multiple of 16
 * (zero-padded), and the product goes through a buffer when it needs scaling, a bias or those padded columns.
 */
void packedGemm(const VMath& vm, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                int64_t lda, const float* b, int64_t ldb, float beta, const float* bias, float* out, int64_t ldc) {
  thread_local std::vector<float> buffer;
  const int64_t np = (n + 15) / 16 * 16;
  const bool packB = tb || np != n;
  const bool direct = np == n && alpha == 1.0f && beta == 0.0f && bias == nullptr;
  buffer.resize(static_cast<size_t>((packB ? k * np : 0) + (direct ? 0 : m * np)));
  float* pb = buffer.data();
  float* pc = pb + (packB ? k * np : 0);
  if (packB) {
    // Padding columns only feed discarded output columns; zeroed, they never compute on stale denormals.
    for (int64_t p = 0; p < k; p++) std::fill(pb + p * np + n, pb + (p + 1) * np, 0.0f);
    if (tb) {
      vm.transpose(b, ldb, n, k, pb, np);
    } else {
      for (int64_t p = 0; p < k; p++) std::memcpy(pb + p * np, b + p * ldb, sizeof(float) * n);
    }
  }
  vm.packedGemm({a, ta ? 1 : lda, ta ? lda : 1, packB ? pb : b, packB ? np : ldb, direct ? out : pc, direct ? ldc : np, m, np, k});
  if (direct) return;
  for (int64_t i = 0; i < m; i++) {
    float* o = out + i * ldc;
    const float* c = pc + i * np;
    for (int64_t j = 0; j < n; j++) {
      o[j] = alpha * c[j] + (beta == 0.0f ? 0.0f : beta * o[j]) + (bias == nullptr ? 0.0f : bias[j]);
    }
  }
}

/** One dnnl_sgemm call; returns its status. */
dnnl_status_t sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  return dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/** C = alpha A^T B + 0 C computed as (B^T A)^T (GemmPath::kSgemmTallOutput). */
dnnl_status_t sgemmTallOutput(const VMath& vm, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                              const float* b, int64_t ldb, float* c, int64_t ldc) {
  thread_local std::vector<float> wide;
  wide.resize(static_cast<size_t>(n * m));
  float* ct = wide.data();  // C^T [n, m] = B^T A
  const dnnl_status_t status = sgemm(true, false, n, m, k, alpha, b, ldb, a, lda, 0.0f, ct, m);
  if (status != dnnl_success) return status;
  parallelIf(m * n >= kParallelGrain, [&] {  // C = (C^T)^T, rows of C split over the threads
    int64_t i0, i1;
    teamRange(m, &i0, &i1);
    vm.transpose(ct + i0, m, n, i1 - i0, c + i0 * ldc, ldc);
  });
  return dnnl_success;
}

/** C = alpha A B^T + beta C computed as A (B^T copied) (GemmPath::kSgemmDeepWeight). */
dnnl_status_t sgemmDeepWeight(const VMath& vm, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                              const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  thread_local std::vector<float> plain;
  plain.resize(static_cast<size_t>(k * n));
  float* bt = plain.data();
  parallelIf(n * k >= kParallelGrain, [&] {  // bt [k, n] = B^T, rows of bt split over the threads
    int64_t p0, p1;
    teamRange(k, &p0, &p1);
    vm.transpose(b + p0, ldb, n, p1 - p0, bt + p0 * n, n);
  });
  return sgemm(false, false, m, n, k, alpha, a, lda, bt, n, beta, c, ldc);
}

/** out = beta out + bias for every matrix (GemmPath::kZeroDepth). */
void zeroDepth(const GemmArgs& g) {
  for (int64_t i = 0; i < g.batch; i++) {
    for (int64_t r = 0; r < g.m; r++) {
      float* o = g.out + batchOffset(g, i, g.strideC, g.strideCOuter) + r * g.ldc;
      for (int64_t j = 0; j < g.n; j++) o[j] = (g.beta == 0.0f ? 0.0f : g.beta * o[j]) + (g.bias == nullptr ? 0.0f : g.bias[j]);
    }
  }
}

/** The dnnl_sgemm paths: every output row starts as the bias (if any), then the products accumulate onto it. */
dnnl_status_t sgemmPaths(const GemmArgs& g, GemmPath path) {
  SignalsHeld held;  // oneDNN's kernels must not take a signal (signals.cc)
  const int64_t m = g.m, n = g.n, k = g.k;
  const bool ta = g.transA, tb = g.transB;
  const auto offA = [&](int64_t i) { return batchOffset(g, i, g.strideA, g.strideAOuter); };
  const auto offB = [&](int64_t i) { return batchOffset(g, i, g.strideB, g.strideBOuter); };
  const auto offC = [&](int64_t i) { return batchOffset(g, i, g.strideC, g.strideCOuter); };
  float beta = g.beta;
  if (g.bias != nullptr) {
    parallelIf(g.batch * m * n >= kParallelGrain, [&] {
#pragma omp for schedule(static) nowait
      for (int64_t r = 0; r < g.batch * m; r++) std::memcpy(g.out + offC(r / m) + (r % m) * g.ldc, g.bias, n * sizeof(float));
    });
    beta = 1.0f;
  }
  dnnl_status_t status = dnnl_success;
  if (path == GemmPath::kSgemmPerMatrix) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < g.batch; i++) {
      dnnl_status_t s = sgemm(ta, tb, m, n, k, g.alpha, g.a + offA(i), g.lda, g.b + offB(i), g.ldb, beta, g.out + offC(i), g.ldc);
      if (s != dnnl_success) {
#pragma omp atomic write
        status = s;
      }
    }
    return status;
  }
  const VMath& vm = vmath();
  for (int64_t i = 0; i < g.batch && status == dnnl_success; i++) {
    const float* a = g.a + offA(i);
    const float* b = g.b + offB(i);
    float* c = g.out + offC(i);
    if (path == GemmPath::kSgemmTallOutput) {
      status = sgemmTallOutput(vm, m, n, k, g.alpha, a, g.lda, b, g.ldb, c, g.ldc);
    } else if (path == GemmPath::kSgemmDeepWeight) {
      status = sgemmDeepWeight(vm, m, n, k, g.alpha, a, g.lda, b, g.ldb, beta, c, g.ldc);
    } else {
      status = sgemm(ta, tb, m, n, k, g.alpha, a, g.lda, b, g.ldb, beta, c, g.ldc);
    }
  }
  return status;
}

/** Runs g on `path`; returns dnnl_sgemm's status. */
int runGemm(const GemmArgs& g, GemmPath path) {
  const VMath& vm = vmath();
  const int64_t work = g.m * g.n * g.k;
  switch (path) {
    case GemmPath::kZeroDepth:
      zeroDepth(g);
      return dnnl_success;
    case GemmPath::kSmallRows:
      smallGemm({g.a, g.lda, g.b, g.ldb, g.bias, g.out, g.ldc, g.m, g.k, g.alpha, g.beta}, g.n);
      return dnnl_success;
    case GemmPath::kTinyLoops:
      parallelIf(g.batch > 1 && g.batch * work >= kSmallGemmGrain, [&] {
#pragma omp for schedule(static) nowait
        for (int64_t i = 0; i < g.batch; i++) {
          tinyGemm(vm, g.a + batchOffset(g, i, g.strideA, g.strideAOuter), g.lda, g.b + batchOffset(g, i, g.strideB, g.strideBOuter),
                   g.ldb, g.transB, g.bias, g.out + batchOffset(g, i, g.strideC, g.strideCOuter), g.ldc, g.m, g.n, g.k, g.alpha, g.beta);
        }
      });
      return dnnl_success;
    case GemmPath::kPacked:
      parallelIf(g.batch * work >= kSmallGemmGrain, [&] {
#pragma omp for schedule(static) nowait
        for (int64_t i = 0; i < g.batch; i++) {
          packedGemm(vm, g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a + batchOffset(g, i, g.strideA, g.strideAOuter), g.lda,
                     g.b + batchOffset(g, i, g.strideB, g.strideBOuter), g.ldb, g.beta, g.bias,
                     g.out + batchOffset(g, i, g.strideC, g.strideCOuter), g.ldc);
        }
      });
      return dnnl_success;
    default:
      return sgemmPaths(g, path);
  }
}

}  // namespace

void fixSingleRowLeadingDims(GemmArgs& g) {
  if ((g.transA ? g.k : g.m) == 1 && g.lda < (g.transA ? g.m : g.k)) g.lda = g.transA ? g.m : g.k;
  if ((g.transB ? g.n : g.k) == 1 && g.ldb < (g.transB ? g.k : g.n)) g.ldb = g.transB ? g.k : g.n;
}

int gemm(const GemmArgs& g) {
  if (g.batch == 0 || g.m == 0 || g.n == 0) return dnnl_success;
  return runGemm(g, chooseGemmPath(g, false));
}

bool linearRows(const float* x, int64_t rows, int64_t k, const float* w, int64_t n, const float* bias, float* out) {
  const GemmArgs g{1, rows, n, k, false, true, x, k, 0, 0, w, k, 0, 0, out, n, rows * n, rows * n, 1, 1.0f, 0.0f, bias};
  if (rows == 0 || n == 0) return true;
  return runGemm(g, chooseGemmPath(g, true)) == dnnl_success;
}

int directSgemm(const GemmArgs& g) {
  SignalsHeld held;
  return sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.out, g.ldc);
}

}  // namespace aiayn
