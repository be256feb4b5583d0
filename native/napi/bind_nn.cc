// Readers of the neural-network kernels' argument objects (kernels/nn.h): softmax, LayerNorm, cross entropy,
// dropout, embedding and Adam. Each object carries the parameters of the HostKernels method of the same name.
#include <string>
#include <utility>

#include "kernels/nn.h"
#include "napi/bind.h"

namespace aiayn {
namespace {

/** Words of a bit mask over n elements. */
int64_t maskWords(int64_t n) { return (n + 31) / 32; }

/** {ids, dim} with every id a row of a table of `tableLength` floats (no check when dim is 0). */
EmbeddingRows readRows(const Reader& r, int64_t tableLength) {
  const I32 ids = r.i32("ids");
  const EmbeddingRows rows{ids.data, ids.length, r.size("dim")};
  for (int64_t i = 0; rows.dim > 0 && i < ids.length; i++) {
    if (ids.data[i] < 0 || ids.data[i] >= tableLength / rows.dim) {
      r.fail("id " + std::to_string(ids.data[i]) + " is outside the embedding table", true);
    }
  }
  return rows;
}

}  // namespace

/** {x, shape, scale, mask: Strided | null, log, out} */
SoftmaxArgs readSoftmax(const Reader& r) {
  std::vector<int64_t> shape = r.shape("shape");
  const int64_t total = r.product(shape);
  StridedRef mask{nullptr, 0, std::vector<int64_t>(shape.size(), 0)};
  if (r.objectOrNull("mask")) mask = r.strided("mask", shape);
  const float* x = r.floats("x", total);
  return {x, std::move(shape), r.number("scale"), std::move(mask), r.boolean("log"), r.floats("out", total)};
}

/** {y, dy, rows, cols, scale, log, dx} */
SoftmaxBackwardArgs readSoftmaxBackward(const Reader& r) {
  const int64_t rows = r.size("rows"), cols = r.size("cols"), total = r.product({rows, cols});
  return {r.floats("y", total), r.floats("dy", total), rows, cols, r.number("scale"), r.boolean("log"), r.floats("dx", total)};
}

/** {x, gamma, beta, rows, cols, eps, out, mean, rstd, residual?: {y, sum}} */
LayerNormArgs readLayerNorm(const Reader& r) {
  const int64_t rows = r.size("rows"), cols = r.size("cols"), total = r.product({rows, cols});
  LayerNormArgs g{r.floats("x", total), r.floats("gamma", cols), r.floats("beta", cols), rows, cols, r.number("eps"),
                  r.floats("out", total), r.floats("mean", rows), r.floats("rstd", rows), nullptr, nullptr};
  if (const std::optional<Reader> residual = r.objectOrNull("residual")) {
    g.y = residual->floats("y", total);
    g.sum = residual->floats("sum", total);
  }
  return g;
}

/** {x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta} */
LayerNormBackwardArgs readLayerNormBackward(const Reader& r) {
  const int64_t rows = r.size("rows"), cols = r.size("cols"), total = r.product({rows, cols});
  return {r.floats("x", total), r.floats("gamma", cols), r.floats("dy", total), r.floats("mean", rows), r.floats("rstd", rows),
          rows, cols, r.floats("dx", total), r.floats("dgamma", cols), r.floats("dbeta", cols)};
}

/**
 * {logits, targets, rows, vocab, ignoreIndex, smoothing, losses, logSumExp, grad?: {scale, dlogits, columnSums?},
 * bias?}, every target in [0, vocab) or ignoreIndex.
 */
CrossEntropyArgs readCrossEntropy(const Reader& r) {
  const int64_t rows = r.size("rows"), vocab = r.size("vocab"), total = r.product({rows, vocab});
  const F32 bias = r.f32OrNull("bias");
  if (bias.data != nullptr) r.needLength(bias.length, vocab, "bias");
  CrossEntropyArgs g{r.floats("logits", total), r.ints("targets", rows), rows, vocab, r.integer("ignoreIndex"), r.number("smoothing"),
                     r.floats("losses", rows), r.floats("logSumExp", rows), bias.data, 0.0, nullptr, nullptr};
  if (const std::optional<Reader> grad = r.objectOrNull("grad")) {
    const F32 columnSums = grad->f32OrNull("columnSums");
    if (columnSums.data != nullptr) grad->needLength(columnSums.length, vocab, "columnSums");
    g.scale = grad->number("scale");
    g.dlogits = grad->floats("dlogits", total);
    g.columnSums = columnSums.data;
  }
  for (int64_t i = 0; i < rows; i++) {
    const int64_t t = g.targets[i];
    if (t != g.ignoreIndex && (t < 0 || t >= vocab)) {
      r.fail("target " + std::to_string(t) + " of row " + std::to_string(i) + " is outside the vocabulary", true);
    }
  }
  return g;
}

/** {x, p, state, out, keepBits, relu} */
DropoutArgs readDropout(const Reader& r) {
  const F32 x = r.f32("x");
  const double p = dropoutP(r);
  const U32 state = r.u32("state");
  r.needLength(state.length, 4, "state");
  return {x.data, x.length, p, state.data, r.floats("out", x.length), r.ints("keepBits", maskWords(x.length)), r.boolean("relu")};
}

/** {dy, keepBits, p, dx} */
DropoutBackwardArgs readDropoutBackward(const Reader& r) {
  const F32 dy = r.f32("dy");
  return {dy.data, dy.length, r.ints("keepBits", maskWords(dy.length)), dropoutP(r), r.floats("dx", dy.length)};
}

/** {weight, ids, dim, out} */
EmbeddingArgs readEmbedding(const Reader& r) {
  const F32 weight = r.f32("weight");
  const EmbeddingRows rows = readRows(r, weight.length);
  return {weight.data, rows, r.floats("out", r.product({rows.count, rows.dim}))};
}

/** {dy, ids, dim, dweight, fresh} */
EmbeddingBackwardArgs readEmbeddingBackward(const Reader& r) {
  const F32 dweight = r.f32("dweight");
  const EmbeddingRows rows = readRows(r, dweight.length);
  return {r.floats("dy", r.product({rows.count, rows.dim})), rows, dweight.data, dweight.length, r.boolean("fresh")};
}

/** {param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled} */
AdamArgs readAdam(const Reader& r) {
  const F32 param = r.f32("param");
  const int64_t n = param.length;
  return {param.data, r.floats("grad", n), r.floats("m", n), r.floats("v", n), n, r.number("lr"), r.number("beta1"),
          r.number("beta2"), r.number("eps"), r.number("weightDecay"), r.number("step"), r.boolean("decoupled")};
}

}  // namespace aiayn
