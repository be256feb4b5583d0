// Batched GEMM on oneDNN's row-major dnnl_sgemm (stable across oneDNN 2.x and 3.x), with an optional bias row
// added to every output row (a Linear layer in one call). A product of a few rows times a transposed right
// operand (x W^T while decoding a batch of tokens) runs on our own dot-product kernel instead, where that is
// measured faster (see kSmallRows). Plus `directSgemm`, a thin call of dnnl_sgemm for benchmarks that measure
// the wrapper's overhead.
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "vmath.h"

namespace aiayn {
namespace {

/**
 * Below this many multiply-adds per matrix, a batch of at least one matrix per thread is spread over the
 * threads, one single-threaded GEMM each (oneDNN runs sequentially inside a parallel region); above it each
 * GEMM uses all threads itself.
 */
constexpr int64_t kSmallGemm = int64_t(1) << 24;

/**
 * A single product of 1..kSmallRows rows times a transposed operand takes smallGemmNT when there are threads
 * to split it over: dnnl_sgemm leaves the second thread idle on these short, wide products and packs the whole
 * weight for a few rows. `bench/small-gemm.ts`, 2 threads: ours 1.3-2.2x faster on 4..32 x 256..8000 x 256 and
 * 4.6-7.4x on 16 and 32 x 256 x 1024; one row on the single-row kernel (VMath::oneRowKernel: AVX-512, k and
 * ldw multiples of 16) 1.4-1.6x on 1 x 256..1024 x 256..1024, where dnnl_sgemm's GEMV pays ~10 us a call, 1.3x
 * on 1 x 8000 x 256 (60 against 78-80 us), 1.2-1.4x on 1 x 2048 x 512 and 1.8-2.1x on 1 x 16000 x 512. Without
 * that kernel one row took 1.15-1.45x up to 1 x 1024 x 256 but 0.8x on 1 x 8000 x 256, so there single rows
 * past kSmallRowWeights keep dnnl_sgemm. On one thread every product keeps dnnl_sgemm.
 */
constexpr int64_t kSmallRows = 32;

/** Weight elements (n * k) above which a single row goes to dnnl_sgemm unless the single-row kernel applies. */
constexpr int64_t kSmallRowWeights = int64_t(1) << 20;

/** Below this many multiply-adds smallGemmNT stays on one thread. */
constexpr int64_t kSmallGemmGrain = int64_t(1) << 16;

/** out (m x n) = alpha * A W^T + beta * out + bias on smallGemmNT, the columns split over the threads. */
void smallGemm(const SmallGemmArgs& g, int64_t n) {
  const VMath& vm = vmath();
  parallelIf(g.m * n * g.k >= kSmallGemmGrain && n > kColumnChunk, [&] {
    int64_t j0, j1;
    teamColumns(n, &j0, &j1);
    if (j0 < j1) vm.smallGemmNT(g, j0, j1);
  });
}

/**
 * Products of at most this many multiply-adds with at most kSmallRows rows run on plain loops, the batch spread
 * over the threads: dnnl_sgemm spends about a microsecond a call before any work, longer than one head's
 * attention for one decoded token takes (1 x 64 x 32, 2,048 multiply-adds).
 */
constexpr int64_t kTinyGemm = int64_t(1) << 14;

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
 * Batches of products of at most this many multiply-adds and at most kPackedCols columns (attention's per-head
 * Q K^T, P V and their gradients) run on VMath::packedGemm, one product per thread at a time; dnnl_sgemm spends
 * about as long setting up each of these as computing it.
 */
constexpr int64_t kPackedGemm = int64_t(1) << 18;
constexpr int64_t kPackedCols = 256;

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

/** Throws unless a `rows` x `cols` matrix stored with leading dimension ld from `offset` fits in `length`. */
void checkMatrix(Napi::Env env, const char* name, int64_t length, __int128 offset, int64_t rows, int64_t cols, int64_t ld) {
  if (rows == 0 || cols == 0) return;
  if (ld < cols) fail(env, std::string("leading dimension of '") + name + "' is smaller than its row length", true);
  const __int128 end = offset + static_cast<__int128>(rows - 1) * ld + cols;  // 128 bits: cannot overflow
  if (offset < 0 || end > length) {
    fail(env, std::string("'") + name + "' reaches outside its buffer", true);
  }
}

/** One dnnl_sgemm call; returns its status. */
dnnl_status_t sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  return dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/**
 * Rows from which x W^T with a weight at least twice as deep as it is wide (k >= 2n: the FFN's second layer)
 * runs as x (W^T copied) instead: dnnl_sgemm's transposed-B kernel is slower than its plain one on those shapes.
 * Measured here, 2 threads, dnnl NT against the copy and NN together: 2048 x 256 x 1024 4.0 -> 3.2 ms,
 * 1024 x 512 x 2048 8.7 -> 7.0, 2048 x 512 x 1024 8.3 -> 6.4, 1536 x 128 x 512 0.64 -> 0.59; but 256 x 128 x 512
 * 0.14 -> 0.16, where the copy does not pay.
 */
constexpr int64_t kTransposeDeepWeightRows = 1024;

/**
 * A^T B with a tall, narrow output (m >= 16 n, n <= 256: the weight gradient of a vocabulary projection, [V, d]
 * from [rows, V] and [rows, d]) runs as (B^T A)^T: dnnl_sgemm's kernel is faster on the wide product. Measured here,
 * 2 threads, copy back included: 8000 x 128 x 1536 12.1-13.3 -> 10.1-10.3 ms, 8000 x 256 x 2048 30.5-31.7 ->
 * 29.2-29.9 ms; at n 512 (16000 x 512 x 1024) the wide product alone was no faster. From kTallOutputWork
 * multiply-adds, where the copy is small beside the product.
 */
constexpr int64_t kTallOutputWork = int64_t(1) << 28;

/**
 * A single product on dnnl_sgemm, rerouted where its kernels are measured slow: a deep transposed weight copied
 * first (see kTransposeDeepWeightRows), a tall transposed-A output computed transposed (see kTallOutputWork).
 */
dnnl_status_t sgemmSingle(const VMath& vm, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (ta && !tb && beta == 0.0f && n <= 256 && m >= 16 * n && m * n * k >= kTallOutputWork) {
    thread_local std::vector<float> wide;
    wide.resize(static_cast<size_t>(n * m));
    float* ct = wide.data();  // C^T [n, m] = B^T A
    const dnnl_status_t status = sgemm(true, false, n, m, k, alpha, b, ldb, a, lda, 0.0f, ct, m);
    if (status != dnnl_success) return status;
    parallelIf(m * n >= kParallelGrain, [&] {  // C = (C^T)^T, rows of C split over the threads
      const int64_t i0 = m * omp_get_thread_num() / omp_get_num_threads();
      const int64_t i1 = m * (omp_get_thread_num() + 1) / omp_get_num_threads();
      vm.transpose(ct + i0, m, n, i1 - i0, c + i0 * ldc, ldc);
    });
    return dnnl_success;
  }
  if (ta || !tb || k < 2 * n || m < kTransposeDeepWeightRows) return sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  thread_local std::vector<float> plain;
  plain.resize(static_cast<size_t>(k * n));
  float* bt = plain.data();
  parallelIf(n * k >= kParallelGrain, [&] {  // bt [k, n] = B^T, rows of bt split over the threads
    const int64_t p0 = k * omp_get_thread_num() / omp_get_num_threads();
    const int64_t p1 = k * (omp_get_thread_num() + 1) / omp_get_num_threads();
    vm.transpose(b + p0, ldb, n, p1 - p0, bt + p0 * n, n);
  });
  return sgemm(false, false, m, n, k, alpha, a, lda, bt, n, beta, c, ldc);
}

/**
 * gemm(batch, m, n, k, transA, transB, a, aOffset, lda, strideA, b, bOffset, ldb, strideB, out, alpha, beta
 *      [, bias | null, biasOffset [, batchInner, strideAOuter, strideBOuter [, ldc, strideC, strideCOuter]]]); with a
 * bias, out = alpha op(A) op(B) + bias row and beta must be 0. Matrix i of a batch starts at aOffset +
 * (i / batchInner) * strideAOuter + (i % batchInner) * strideA (likewise for B, and for out from 0 with strideC,
 * strideCOuter and rows ldc apart), so two batch dims that no single stride walks (heads split from a [B, T, h, d]
 * view, or written back into one) need no copy; batchInner defaults to batch, out to dense [batch, m, n].
 */
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t batch = argSize(info, 0, "batch");
  const int64_t m = argSize(info, 1, "m");
  const int64_t n = argSize(info, 2, "n");
  const int64_t k = argSize(info, 3, "k");
  const bool ta = argBool(info, 4, "transA");
  const bool tb = argBool(info, 5, "transB");
  F32 a = argF32(info, 6, "a");
  const int64_t aOff = argInt(info, 7, "aOffset");
  int64_t lda = argInt(info, 8, "lda");
  const int64_t strideA = argInt(info, 9, "strideA");
  F32 b = argF32(info, 10, "b");
  const int64_t bOff = argInt(info, 11, "bOffset");
  int64_t ldb = argInt(info, 12, "ldb");
  const int64_t strideB = argInt(info, 13, "strideB");
  F32 out = argF32(info, 14, "out");
  const float alpha = static_cast<float>(argNumber(info, 15, "alpha"));
  const float beta = static_cast<float>(argNumber(info, 16, "beta"));
  const bool hasBias = info.Length() > 17 && !info[17].IsNull() && !info[17].IsUndefined();
  const float* bias = nullptr;
  if (hasBias) {
    F32 bb = argF32(info, 17, "bias");
    const int64_t biasOff = argSize(info, 18, "biasOffset");
    needLength(env, bb.length, biasOff + n, "bias");
    if (beta != 0.0f) fail(env, "gemm: a bias needs beta = 0", true);
    bias = bb.data + biasOff;
  }
  const int64_t mn = product(env, {m, n});
  product(env, {batch, mn});  // throws when the output size overflows
  if (batch == 0 || mn == 0) return env.Undefined();
  const bool twoLevel = info.Length() > 19 && !info[19].IsUndefined();
  const int64_t inner = twoLevel ? argSize(info, 19, "batchInner") : batch;
  const int64_t strideAO = twoLevel ? argInt(info, 20, "strideAOuter") : 0;
  const int64_t strideBO = twoLevel ? argInt(info, 21, "strideBOuter") : 0;
  if (inner < 1 || batch % inner != 0) fail(env, "gemm: batchInner must divide batch", true);
  // Output layout (default dense [batch, m, n]): matrix i at offC(i), rows ldc apart.
  const auto given = [&](size_t at) { return info.Length() > at && !info[at].IsUndefined(); };
  const int64_t ldc = given(22) ? argSize(info, 22, "ldc") : n;
  const int64_t strideC = given(23) ? argSize(info, 23, "strideC") : mn;
  const int64_t strideCO = given(24) ? argSize(info, 24, "strideCOuter") : inner * mn;
  auto offC = [&](int64_t i) { return (i / inner) * strideCO + (i % inner) * strideC; };
  checkMatrix(env, "out", out.length, 0, m, n, ldc);
  checkMatrix(env, "out", out.length, static_cast<__int128>((batch - 1) / inner) * strideCO + static_cast<__int128>((batch - 1) % inner) * strideC, m, n, ldc);
  if (k == 0) {
    for (int64_t i = 0; i < batch; i++) {
      for (int64_t r = 0; r < m; r++) {
        float* o = out.data + offC(i) + r * ldc;
        for (int64_t j = 0; j < n; j++) o[j] = (beta == 0.0f ? 0.0f : beta * o[j]) + (bias == nullptr ? 0.0f : bias[j]);
      }
    }
    return env.Undefined();
  }
  if (strideA < 0 || strideB < 0 || strideAO < 0 || strideBO < 0) fail(env, "batch strides must be >= 0", true);
  // Element offsets of matrix i; with non-negative strides the last matrix reaches furthest.
  auto offA = [&](int64_t i) { return aOff + (i / inner) * strideAO + (i % inner) * strideA; };
  auto offB = [&](int64_t i) { return bOff + (i / inner) * strideBO + (i % inner) * strideB; };
  // A leading dimension is meaningless for a single stored row; oneDNN still wants it >= the row length.
  if ((ta ? k : m) == 1 && lda < (ta ? m : k)) lda = ta ? m : k;
  if ((tb ? n : k) == 1 && ldb < (tb ? k : n)) ldb = tb ? k : n;
  const __int128 lastA = aOff + static_cast<__int128>((batch - 1) / inner) * strideAO + static_cast<__int128>((batch - 1) % inner) * strideA;
  const __int128 lastB = bOff + static_cast<__int128>((batch - 1) / inner) * strideBO + static_cast<__int128>((batch - 1) % inner) * strideB;
  checkMatrix(env, "a", a.length, aOff, ta ? k : m, ta ? m : k, lda);
  checkMatrix(env, "a", a.length, lastA, ta ? k : m, ta ? m : k, lda);
  checkMatrix(env, "b", b.length, bOff, tb ? n : k, tb ? k : n, ldb);
  checkMatrix(env, "b", b.length, lastB, tb ? n : k, tb ? k : n, ldb);
  // One product only: a batch of small ones (attention over short sentences) is spread over the threads below.
  if (batch == 1 && !ta && tb && linearOnSmallGemm(m, n, k, ldb)) {
    smallGemm({a.data + aOff, lda, b.data + bOff, ldb, bias, out.data + offC(0), ldc, m, k, alpha, beta}, n);
    return env.Undefined();
  }
  if (!ta && m <= kSmallRows && m * n * k <= kTinyGemm) {
    const VMath& vm = vmath();
    parallelIf(batch > 1 && batch * m * n * k >= kSmallGemmGrain, [&] {
#pragma omp for schedule(static) nowait
      for (int64_t i = 0; i < batch; i++) {
        tinyGemm(vm, a.data + offA(i), lda, b.data + offB(i), ldb, tb, bias, out.data + offC(i), ldc, m, n, k, alpha, beta);
      }
    });
    return env.Undefined();
  }
  if (batch > 1 && m * n * k <= kPackedGemm && n <= kPackedCols) {
    const VMath& vm = vmath();
    parallelIf(batch * m * n * k >= kSmallGemmGrain, [&] {
#pragma omp for schedule(static) nowait
      for (int64_t i = 0; i < batch; i++) {
        packedGemm(vm, ta, tb, m, n, k, alpha, a.data + offA(i), lda, b.data + offB(i), ldb, beta, bias, out.data + offC(i), ldc);
      }
    });
    return env.Undefined();
  }
  SignalsHeld held;  // oneDNN's kernels must not take a signal (signals.cc)
  float betaEff = beta;
  if (bias != nullptr) {  // every output row starts as the bias; the GEMM then accumulates onto it
    parallelIf(batch * mn >= kParallelGrain, [&] {
#pragma omp for schedule(static) nowait
      for (int64_t r = 0; r < batch * m; r++) std::memcpy(out.data + offC(r / m) + (r % m) * ldc, bias, n * sizeof(float));
    });
    betaEff = 1.0f;
  }
  dnnl_status_t status = dnnl_success;
  if (batch > 1 && batch >= omp_get_max_threads() && m * n * k < kSmallGemm) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < batch; i++) {
      dnnl_status_t s = sgemm(ta, tb, m, n, k, alpha, a.data + offA(i), lda, b.data + offB(i), ldb,
                              betaEff, out.data + offC(i), ldc);
      if (s != dnnl_success) {
#pragma omp atomic write
        status = s;
      }
    }
  } else {
    const VMath& vm = vmath();
    for (int64_t i = 0; i < batch && status == dnnl_success; i++) {
      status = sgemmSingle(vm, ta, tb, m, n, k, alpha, a.data + offA(i), lda, b.data + offB(i), ldb, betaEff,
                           out.data + offC(i), ldc);
    }
  }
  if (status != dnnl_success) fail(env, "dnnl_sgemm failed with status " + std::to_string(status), true);
  return env.Undefined();
}

/** directSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): dnnl_sgemm on whole buffers. */
Napi::Value DirectSgemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool ta = argBool(info, 0, "transA");
  const bool tb = argBool(info, 1, "transB");
  const int64_t m = argSize(info, 2, "m");
  const int64_t n = argSize(info, 3, "n");
  const int64_t k = argSize(info, 4, "k");
  const float alpha = static_cast<float>(argNumber(info, 5, "alpha"));
  F32 a = argF32(info, 6, "a");
  const int64_t lda = argSize(info, 7, "lda");
  F32 b = argF32(info, 8, "b");
  const int64_t ldb = argSize(info, 9, "ldb");
  const float beta = static_cast<float>(argNumber(info, 10, "beta"));
  F32 c = argF32(info, 11, "c");
  const int64_t ldc = argSize(info, 12, "ldc");
  if (k > 0) {
    checkMatrix(env, "a", a.length, 0, ta ? k : m, ta ? m : k, lda);
    checkMatrix(env, "b", b.length, 0, tb ? n : k, tb ? k : n, ldb);
  }
  checkMatrix(env, "c", c.length, 0, m, n, ldc);
  SignalsHeld held;
  dnnl_status_t s = sgemm(ta, tb, m, n, k, alpha, a.data, lda, b.data, ldb, beta, c.data, ldc);
  if (s != dnnl_success) fail(env, "dnnl_sgemm failed with status " + std::to_string(s), true);
  return env.Undefined();
}

}  // namespace

void teamColumns(int64_t n, int64_t* first, int64_t* last) {
  const int64_t chunks = (n + kColumnChunk - 1) / kColumnChunk;
  const int64_t t = omp_get_thread_num();
  const int64_t threads = omp_get_num_threads();
  *first = std::min(n, chunks * t / threads * kColumnChunk);
  *last = std::min(n, chunks * (t + 1) / threads * kColumnChunk);
}

bool linearOnSmallGemm(int64_t rows, int64_t n, int64_t k, int64_t ldw) {
  const VMath& vm = vmath();
  const bool oneRow = vm.oneRowKernel && k % vm.oneRowAlign == 0 && ldw % vm.oneRowAlign == 0;
  return rows >= 1 && rows <= kSmallRows && (rows > 1 || n * k <= kSmallRowWeights || oneRow) && omp_get_max_threads() > 1;
}

bool linearRows(const float* x, int64_t rows, int64_t k, const float* w, int64_t n, const float* bias, float* out) {
  if (rows == 0 || n == 0) return true;
  if (linearOnSmallGemm(rows, n, k, k)) {
    smallGemm({x, k, w, k, bias, out, n, rows, k, 1.0f, 0.0f}, n);
    return true;
  }
  SignalsHeld held;  // oneDNN's kernels must not take a signal (signals.cc)
  if (bias != nullptr) {
    parallelIf(rows * n >= kParallelGrain, [&] {
#pragma omp for schedule(static) nowait
      for (int64_t r = 0; r < rows; r++) std::memcpy(out + r * n, bias, n * sizeof(float));
    });
  }
  return sgemmSingle(vmath(), false, true, rows, n, k, 1.0f, x, k, w, k, bias == nullptr ? 0.0f : 1.0f, out, n) == dnnl_success;
}

void initGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("directSgemm", Napi::Function::New(env, DirectSgemm, "directSgemm"));
}

}  // namespace aiayn
