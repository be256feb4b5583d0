// N-API functions of the neural-network kernels (kernels/nn.h): softmax, LayerNorm, cross entropy, dropout,
// embedding and Adam. Each object carries the parameters of the HostKernels method of the same name by name.
#include <string>
#include <utility>

#include "kernels/nn.h"
#include "napi/bind.h"

namespace aiayn {
namespace {

/** {x, shape, scale, mask: Strided | null, log, out} */
SoftmaxArgs readSoftmax(const Reader& r) {
  const F32 x = r.f32("x");
  std::vector<int64_t> shape = r.shape("shape");
  const double scale = r.number("scale");
  StridedRef mask{nullptr, 0, std::vector<int64_t>(shape.size(), 0)};
  if (r.objectOrNull("mask")) mask = r.strided("mask", shape);
  const bool log = r.boolean("log");
  const F32 out = r.f32("out");
  const int64_t total = r.product(shape);
  r.needLength(x.length, total, "x");
  r.needLength(out.length, total, "out");
  return {x.data, std::move(shape), scale, std::move(mask), log, out.data};
}

/** {y, dy, rows, cols, scale, log, dx} */
SoftmaxBackwardArgs readSoftmaxBackward(const Reader& r) {
  const F32 y = r.f32("y");
  const F32 dy = r.f32("dy");
  const F32 dx = r.f32("dx");
  const SoftmaxBackwardArgs g{y.data, dy.data, r.size("rows"), r.size("cols"), r.number("scale"), r.boolean("log"), dx.data};
  const int64_t total = r.product({g.rows, g.cols});
  r.needLength(y.length, total, "y");
  r.needLength(dy.length, total, "dy");
  r.needLength(dx.length, total, "dx");
  return g;
}

/** {x, gamma, beta, rows, cols, eps, out, mean, rstd, residual?: {y, sum}} */
LayerNormArgs readLayerNorm(const Reader& r) {
  const F32 x = r.f32("x");
  const F32 gamma = r.f32("gamma");
  const F32 beta = r.f32("beta");
  const F32 out = r.f32("out");
  const F32 mean = r.f32("mean");
  const F32 rstd = r.f32("rstd");
  LayerNormArgs g{x.data, gamma.data, beta.data, r.size("rows"), r.size("cols"), r.number("eps"), out.data, mean.data, rstd.data,
                  nullptr, nullptr};
  const int64_t total = r.product({g.rows, g.cols});
  r.needLength(x.length, total, "x");
  r.needLength(out.length, total, "out");
  r.needLength(gamma.length, g.cols, "gamma");
  r.needLength(beta.length, g.cols, "beta");
  r.needLength(mean.length, g.rows, "mean");
  r.needLength(rstd.length, g.rows, "rstd");
  if (const std::optional<Reader> residual = r.objectOrNull("residual")) {
    const F32 y = residual->f32("y");
    const F32 sum = residual->f32("sum");
    residual->needLength(y.length, total, "y");
    residual->needLength(sum.length, total, "sum");
    g.y = y.data;
    g.sum = sum.data;
  }
  return g;
}

/** {x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta} */
LayerNormBackwardArgs readLayerNormBackward(const Reader& r) {
  const F32 x = r.f32("x");
  const F32 gamma = r.f32("gamma");
  const F32 mean = r.f32("mean");
  const F32 rstd = r.f32("rstd");
  const F32 dy = r.f32("dy");
  const F32 dx = r.f32("dx");
  const F32 dgamma = r.f32("dgamma");
  const F32 dbeta = r.f32("dbeta");
  const LayerNormBackwardArgs g{x.data, gamma.data, dy.data, mean.data, rstd.data, r.size("rows"), r.size("cols"), dx.data,
                                dgamma.data, dbeta.data};
  const int64_t total = r.product({g.rows, g.cols});
  for (const auto& [have, name] : {std::pair{x.length, "x"}, {dy.length, "dy"}, {dx.length, "dx"}}) r.needLength(have, total, name);
  for (const auto& [have, name] : {std::pair{gamma.length, "gamma"}, {dgamma.length, "dgamma"}, {dbeta.length, "dbeta"}}) {
    r.needLength(have, g.cols, name);
  }
  r.needLength(mean.length, g.rows, "mean");
  r.needLength(rstd.length, g.rows, "rstd");
  return g;
}

/**
 * {logits, targets, rows, vocab, ignoreIndex, smoothing, losses, logSumExp, grad?: {scale, dlogits, columnSums?},
 * bias?}, every target in [0, vocab) or ignoreIndex.
 */
CrossEntropyArgs readCrossEntropy(const Reader& r) {
  const F32 logits = r.f32("logits");
  const I32 targets = r.i32("targets");
  const F32 losses = r.f32("losses");
  const F32 lse = r.f32("logSumExp");
  const F32 bias = r.f32OrNull("bias");
  CrossEntropyArgs g{logits.data, targets.data, r.size("rows"), r.size("vocab"), r.integer("ignoreIndex"), r.number("smoothing"),
                     losses.data, lse.data, bias.data, 0.0, nullptr, nullptr};
  const int64_t total = r.product({g.rows, g.vocab});
  r.needLength(logits.length, total, "logits");
  r.needLength(targets.length, g.rows, "targets");
  r.needLength(losses.length, g.rows, "losses");
  r.needLength(lse.length, g.rows, "logSumExp");
  if (bias.data != nullptr) r.needLength(bias.length, g.vocab, "bias");
  if (const std::optional<Reader> grad = r.objectOrNull("grad")) {
    const F32 dlogits = grad->f32("dlogits");
    const F32 columnSums = grad->f32OrNull("columnSums");
    grad->needLength(dlogits.length, total, "dlogits");
    if (columnSums.data != nullptr) grad->needLength(columnSums.length, g.vocab, "columnSums");
    g.scale = grad->number("scale");
    g.dlogits = dlogits.data;
    g.columnSums = columnSums.data;
  }
  for (int64_t i = 0; i < g.rows; i++) {
    const int64_t t = g.targets[i];
    if (t != g.ignoreIndex && (t < 0 || t >= g.vocab)) {
      r.fail("target " + std::to_string(t) + " of row " + std::to_string(i) + " is outside the vocabulary", true);
    }
  }
  return g;
}

/** Words of a bit mask over n elements. */
int64_t maskWords(int64_t n) { return (n + 31) / 32; }

/** {x, p, state, out, keepBits, relu} */
DropoutArgs readDropout(const Reader& r) {
  const F32 x = r.f32("x");
  const double p = dropoutP(r);
  const U32 state = r.u32("state");
  const F32 out = r.f32("out");
  const I32 keepBits = r.i32("keepBits");
  const bool relu = r.boolean("relu");
  r.needLength(state.length, 4, "state");
  r.needLength(out.length, x.length, "out");
  r.needLength(keepBits.length, maskWords(x.length), "keepBits");
  return {x.data, x.length, p, state.data, out.data, keepBits.data, relu};
}

/** {dy, keepBits, p, dx} */
DropoutBackwardArgs readDropoutBackward(const Reader& r) {
  const F32 dy = r.f32("dy");
  const I32 keepBits = r.i32("keepBits");
  const double p = dropoutP(r);
  const F32 dx = r.f32("dx");
  r.needLength(dx.length, dy.length, "dx");
  r.needLength(keepBits.length, maskWords(dy.length), "keepBits");
  return {dy.data, dy.length, keepBits.data, p, dx.data};
}

/** Throws unless every id selects a row of a table with `rows` rows. */
void checkIds(const Reader& r, const I32& ids, int64_t rows) {
  for (int64_t i = 0; i < ids.length; i++) {
    if (ids.data[i] < 0 || ids.data[i] >= rows) r.fail("id " + std::to_string(ids.data[i]) + " is outside the embedding table", true);
  }
}

/** {weight, ids, dim, out} */
EmbeddingArgs readEmbedding(const Reader& r) {
  const F32 weight = r.f32("weight");
  const I32 ids = r.i32("ids");
  const int64_t dim = r.size("dim");
  const F32 out = r.f32("out");
  r.needLength(out.length, r.product({ids.length, dim}), "out");
  if (dim > 0) checkIds(r, ids, weight.length / dim);
  return {weight.data, ids.data, ids.length, dim, out.data};
}

/** {dy, ids, dim, dweight, fresh} */
EmbeddingBackwardArgs readEmbeddingBackward(const Reader& r) {
  const F32 dy = r.f32("dy");
  const I32 ids = r.i32("ids");
  const int64_t dim = r.size("dim");
  const F32 dweight = r.f32("dweight");
  const bool fresh = r.boolean("fresh");
  r.needLength(dy.length, r.product({ids.length, dim}), "dy");
  if (dim > 0) checkIds(r, ids, dweight.length / dim);
  return {dy.data, ids.data, ids.length, dim, dweight.data, dweight.length, fresh};
}

/** {param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled} */
AdamArgs readAdam(const Reader& r) {
  const F32 param = r.f32("param");
  const F32 grad = r.f32("grad");
  const F32 m = r.f32("m");
  const F32 v = r.f32("v");
  for (const auto& [have, name] : {std::pair{grad.length, "grad"}, {m.length, "m"}, {v.length, "v"}}) r.needLength(have, param.length, name);
  return {param.data, grad.data, m.data, v.data, param.length, r.number("lr"), r.number("beta1"), r.number("beta2"), r.number("eps"),
          r.number("weightDecay"), r.number("step"), r.boolean("decoupled")};
}

}  // namespace

void initNn(Napi::Env env, Napi::Object exports) {
  exportKernel<readSoftmax, softmax>(env, exports, "softmax");
  exportKernel<readSoftmaxBackward, softmaxBackward>(env, exports, "softmaxBackward");
  exportKernel<readLayerNorm, layerNorm>(env, exports, "layerNorm");
  exportKernel<readLayerNormBackward, layerNormBackward>(env, exports, "layerNormBackward");
  exportKernel<readCrossEntropy, crossEntropy>(env, exports, "crossEntropy");
  exportKernel<readDropout, dropout>(env, exports, "dropout");
  exportKernel<readDropoutBackward, dropoutBackward>(env, exports, "dropoutBackward");
  exportKernel<readEmbedding, embedding>(env, exports, "embedding");
  exportKernel<readEmbeddingBackward, embeddingBackward>(env, exports, "embeddingBackward");
  exportKernel<readAdam, adam>(env, exports, "adam");
}

}  // namespace aiayn
