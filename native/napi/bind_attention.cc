// Readers of attention's argument objects (kernels/attention.h): AttentionScoresArgs and AttentionBackwardArgs of
// src/backend/host/kernels.ts as they are.
#include <string>

#include "kernels/attention.h"
#include "napi/bind.h"

namespace aiayn {
namespace {

/** Field `name` ({data, offset, rowStride, col}) as a projection of `rows` rows of h heads of d values, checked. */
HeadPackedRef readPacked(const Reader& r, const char* name, int64_t rows, int64_t heads, int64_t d) {
  const Reader x = r.object(name);
  const F32 buf = x.f32("data");
  const int64_t offset = x.size("offset");
  const int64_t rowStride = x.size("rowStride");
  const int64_t col = x.size("col");
  const int64_t width = r.product({heads, d});
  if (col + width > rowStride) r.fail(r.quote(name) + ": its heads reach past the end of a row", true);
  if (rows > 0 && offset + r.product({rows - 1, rowStride}) + col + width > buf.length) {
    r.fail(r.quote(name) + " reaches outside its buffer", true);
  }
  return {buf.data + offset + col, rowStride};
}

/** The sizes, as AttentionDims names them. */
AttentionShape readShape(const Reader& r) {
  return {r.size("batch"), r.size("heads"), r.size("tq"), r.size("tk"), r.size("dK"), r.size("dV")};
}

}  // namespace

/** {batch, heads, tq, tk, dK, dV, scale, q, k, mask: Strided | null, probs} */
AttentionScoresArgs readAttentionScores(const Reader& r) {
  const AttentionShape D = readShape(r);
  AttentionScoresArgs g{D, static_cast<float>(r.number("scale")), readPacked(r, "q", D.batch * D.tq, D.heads, D.dK),
                        readPacked(r, "k", D.batch * D.tk, D.heads, D.dK), StridedRef{nullptr, 0, {0, 0, 0, 0}}, nullptr};
  if (r.objectOrNull("mask")) g.mask = r.strided("mask", {D.batch, D.heads, D.tq, D.tk});
  const F32 probs = r.f32("probs");
  r.needLength(probs.length, r.product({D.batch, D.heads, D.tq, D.tk}), "probs");
  g.probs = probs.data;
  return g;
}

/** {batch, heads, tq, tk, dK, dV, scale, q, k, v, probs, dropout: {keepBits, p} | null, dOut, dq, dk, dv} */
AttentionBackwardArgs readAttentionBackward(const Reader& r) {
  const AttentionShape D = readShape(r);
  const int64_t qRows = D.batch * D.tq, kRows = D.batch * D.tk;
  AttentionBackwardArgs g{D, static_cast<float>(r.number("scale")), readPacked(r, "q", qRows, D.heads, D.dK),
                          readPacked(r, "k", kRows, D.heads, D.dK), readPacked(r, "v", kRows, D.heads, D.dV), nullptr, nullptr, 1.0f,
                          nullptr, readPacked(r, "dq", qRows, D.heads, D.dK), readPacked(r, "dk", kRows, D.heads, D.dK),
                          readPacked(r, "dv", kRows, D.heads, D.dV)};
  const F32 probs = r.f32("probs");
  const F32 dOut = r.f32("dOut");
  const int64_t weights = r.product({D.batch, D.heads, D.tq, D.tk});
  r.needLength(probs.length, weights, "probs");
  r.needLength(dOut.length, r.product({D.batch, D.tq, D.heads, D.dV}), "dOut");
  if (const std::optional<Reader> dropout = r.objectOrNull("dropout")) {
    const I32 keepBits = dropout->i32("keepBits");
    const double p = dropoutP(*dropout);
    dropout->needLength(keepBits.length, (weights + 31) / 32, "keepBits");
    g.keepBits = keepBits.data;
    g.keep = static_cast<float>(1.0 / (1.0 - p));
  }
  g.probs = probs.data;
  g.dOut = dOut.data;
  return g;
}

}  // namespace aiayn
