// Readers of the GEMM's argument objects (kernels/gemm.h): gemm's is a GemmArgs of src/backend/host/kernels.ts as
// it is; directSgemm, a thin dnnl_sgemm call for benchmarks that measure the wrapper's overhead, takes a few of its fields.
#include <string>

#include "kernels/gemm.h"
#include "napi/bind.h"

namespace aiayn {
namespace {

/** Throws unless a `rows` x `cols` matrix stored with leading dimension ld from `offset` fits in `length`. */
void checkMatrix(const Reader& r, const char* name, int64_t length, __int128 offset, int64_t rows, int64_t cols, int64_t ld) {
  if (rows == 0 || cols == 0) return;
  if (ld < cols) r.fail("the leading dimension of " + r.quote(name) + " is smaller than its row length", true);
  const __int128 end = offset + static_cast<__int128>(rows - 1) * ld + cols;  // 128 bits: cannot overflow
  if (offset < 0 || end > length) r.fail(r.quote(name) + " reaches outside its buffer", true);
}

/** The fields both functions share: {m, n, k, transA, transB, alpha, beta}; the rest zero. */
GemmArgs readProduct(const Reader& r) {
  GemmArgs g{};
  g.m = r.size("m");
  g.n = r.size("n");
  g.k = r.size("k");
  g.transA = r.boolean("transA");
  g.transB = r.boolean("transB");
  g.alpha = static_cast<float>(r.number("alpha"));
  g.beta = static_cast<float>(r.number("beta"));
  return g;
}

}  // namespace

/**
 * A GemmArgs object ({batch, m, n, k, transA, transB, a, aOffset, lda, strideA, b, bOffset, ldb, strideB, out,
 * alpha, beta} and optionally bias, biasOffset, batchInner, strideAOuter, strideBOuter, ldc, strideC,
 * strideCOuter), every matrix of the batch checked to lie inside its buffer.
 */
GemmArgs readGemm(const Reader& r) {
  GemmArgs g = readProduct(r);
  g.batch = r.size("batch");
  const F32 a = r.f32("a");
  const int64_t aOffset = r.integer("aOffset");
  g.lda = r.integer("lda");
  g.strideA = r.integer("strideA");
  const F32 b = r.f32("b");
  const int64_t bOffset = r.integer("bOffset");
  g.ldb = r.integer("ldb");
  g.strideB = r.integer("strideB");
  const F32 out = r.f32("out");
  g.a = a.data + aOffset;
  g.b = b.data + bOffset;
  g.out = out.data;
  const F32 bias = r.f32OrNull("bias");
  if (bias.data != nullptr) {
    const int64_t biasOffset = r.sizeOr("biasOffset", 0);
    r.needLength(bias.length, biasOffset + g.n, "bias");
    if (g.beta != 0.0f) r.fail("a bias needs beta = 0", true);
    g.bias = bias.data + biasOffset;
  }
  const int64_t mn = r.product({g.m, g.n});
  r.product({g.batch, mn});  // throws when the output size overflows
  g.batchInner = g.batch;
  if (g.batch == 0 || mn == 0) return g;  // nothing to compute (gemm returns at once)
  const bool twoLevel = r.has("batchInner");
  g.batchInner = twoLevel ? r.size("batchInner") : g.batch;
  g.strideAOuter = twoLevel ? r.integerOr("strideAOuter", 0) : 0;
  g.strideBOuter = twoLevel ? r.integerOr("strideBOuter", 0) : 0;
  if (g.batchInner < 1 || g.batch % g.batchInner != 0) r.fail("batchInner must divide batch", true);
  // Output layout (default dense [batch, m, n]): matrix i at offC(i), rows ldc apart.
  g.ldc = r.sizeOr("ldc", g.n);
  g.strideC = r.sizeOr("strideC", mn);
  g.strideCOuter = r.sizeOr("strideCOuter", g.batchInner * mn);
  const int64_t last = g.batch - 1;
  const auto lastOffset = [&](int64_t inner, int64_t outer) {
    return static_cast<__int128>(last / g.batchInner) * outer + static_cast<__int128>(last % g.batchInner) * inner;
  };
  checkMatrix(r, "out", out.length, 0, g.m, g.n, g.ldc);
  checkMatrix(r, "out", out.length, lastOffset(g.strideC, g.strideCOuter), g.m, g.n, g.ldc);
  if (g.k == 0) return g;  // A and B are not read
  if (g.strideA < 0 || g.strideB < 0 || g.strideAOuter < 0 || g.strideBOuter < 0) r.fail("batch strides must be >= 0", true);
  fixSingleRowLeadingDims(g);
  const int64_t aRows = g.transA ? g.k : g.m, aCols = g.transA ? g.m : g.k;
  const int64_t bRows = g.transB ? g.n : g.k, bCols = g.transB ? g.k : g.n;
  // With non-negative strides the first and the last matrix reach furthest.
  checkMatrix(r, "a", a.length, aOffset, aRows, aCols, g.lda);
  checkMatrix(r, "a", a.length, aOffset + lastOffset(g.strideA, g.strideAOuter), aRows, aCols, g.lda);
  checkMatrix(r, "b", b.length, bOffset, bRows, bCols, g.ldb);
  checkMatrix(r, "b", b.length, bOffset + lastOffset(g.strideB, g.strideBOuter), bRows, bCols, g.ldb);
  return g;
}

/** {transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc}: dnnl_sgemm's arguments on whole buffers. */
GemmArgs readDirectSgemm(const Reader& r) {
  GemmArgs g = readProduct(r);
  const F32 a = r.f32("a");
  const F32 b = r.f32("b");
  const F32 c = r.f32("c");
  g.lda = r.size("lda");
  g.ldb = r.size("ldb");
  g.ldc = r.size("ldc");
  if (g.k > 0) {
    checkMatrix(r, "a", a.length, 0, g.transA ? g.k : g.m, g.transA ? g.m : g.k, g.lda);
    checkMatrix(r, "b", b.length, 0, g.transB ? g.n : g.k, g.transB ? g.k : g.n, g.ldb);
  }
  checkMatrix(r, "c", c.length, 0, g.m, g.n, g.ldc);
  g.a = a.data;
  g.b = b.data;
  g.out = c.data;
  return g;
}

}  // namespace aiayn
