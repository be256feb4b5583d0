// The neural-network kernels of src/backend/ts/nn.ts, one file each: softmax (nn_softmax.cc), LayerNorm
// (nn_layernorm.cc), cross entropy (nn_loss.cc), dropout (nn_dropout.cc), embedding (nn_embedding.cc) and Adam
// (nn_adam.cc). Plain C++: the operands arrive checked (napi/bind_nn.cc).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/strided.h"

namespace aiayn {

/** Row softmax (log: log-softmax) of scale * x + mask over the last dim of contiguous x [shape]; mask.data nullptr: none. */
struct SoftmaxArgs {
  const float* x;
  std::vector<int64_t> shape;
  double scale;
  StridedRef mask;
  bool log;
  float* out;
};
/** Runs softmax. */
void softmax(const SoftmaxArgs& g);

/** dx = scale * the gradient of softmax (or log-softmax) from its output y and dy, [rows, cols]. */
struct SoftmaxBackwardArgs {
  const float *y, *dy;
  int64_t rows, cols;
  double scale;
  bool log;
  float* dx;
};
/** Runs softmax's backward. */
void softmaxBackward(const SoftmaxBackwardArgs& g);

/**
 * LayerNorm over the last dim of x [rows, cols] into out, saving mean and rstd per row; with y (not nullptr), of
 * sum = x + y instead, sum written.
 */
struct LayerNormArgs {
  const float *x, *gamma, *beta;
  int64_t rows, cols;
  double eps;
  float *out, *mean, *rstd;
  const float* y;
  float* sum;
};
/** Runs LayerNorm (with the residual sum when g.y is set). */
void layerNorm(const LayerNormArgs& g);

/** LayerNorm's backward: dx written, dgamma and dbeta accumulated (+=). */
struct LayerNormBackwardArgs {
  const float *x, *gamma, *dy;
  float *mean, *rstd;  // only read (not const: they fill LayerNormRows, which the forward writes through)
  int64_t rows, cols;
  float *dx, *dgamma, *dbeta;
};
/** Runs LayerNorm's backward. */
void layerNormBackward(const LayerNormBackwardArgs& g);

/**
 * Label-smoothed cross entropy of logits [rows, vocab] (+ bias row, nullptr: none) against targets: losses and
 * logSumExp per row; with dlogits (nullptr: none; may be logits itself) also the gradient scale * (softmax -
 * ((1 - smoothing) onehot + smoothing / vocab)), and with columnSums its sums over the rows.
 */
struct CrossEntropyArgs {
  const float* logits;
  const int32_t* targets;
  int64_t rows, vocab, ignoreIndex;
  double smoothing;
  float *losses, *logSumExp;
  const float* bias;
  double scale;
  float *dlogits, *columnSums;
};
/** Runs the cross entropy (and its gradient when g.dlogits is set). */
void crossEntropy(const CrossEntropyArgs& g);

/** Inverted dropout of x [n] with keep bits drawn from the xoshiro128** state (4 words, advanced); relu: of ReLU(x). */
struct DropoutArgs {
  const float* x;
  int64_t n;
  double p;
  uint32_t* state;
  float* out;
  int32_t* keepBits;
  bool relu;
};
/** Runs dropout. */
void dropout(const DropoutArgs& g);

/** dx[i] = dy[i] * (kept ? 1 / (1 - p) : 0) for i < n. */
struct DropoutBackwardArgs {
  const float* dy;
  int64_t n;
  int32_t* keepBits;  // only read (not const: VMath::dropoutGradWords writes bits back in its relu mode only)
  double p;
  float* dx;
};
/** Runs dropout's backward. */
void dropoutBackward(const DropoutBackwardArgs& g);

/** The rows ids[0, count) of a table whose rows hold dim values. */
struct EmbeddingRows {
  const int32_t* ids;
  int64_t count, dim;
};

/** out[i, :] = weight[ids[i], :]. */
struct EmbeddingArgs {
  const float* weight;
  EmbeddingRows rows;
  float* out;
};
/** Runs the embedding gather. */
void embedding(const EmbeddingArgs& g);

/** dweight[ids[i], :] += dy[i, :]; with fresh, dweight (dweightLength values) zeroed first. */
struct EmbeddingBackwardArgs {
  const float* dy;
  EmbeddingRows rows;
  float* dweight;
  int64_t dweightLength;
  bool fresh;
};
/** Runs the embedding scatter-add. */
void embeddingBackward(const EmbeddingBackwardArgs& g);

/** One Adam(W) step over n parameters in place (decoupled: AdamW's weight decay, else L2 in the gradient). */
struct AdamArgs {
  float* param;
  const float* grad;
  float *m, *v;
  int64_t n;
  double lr, beta1, beta2, eps, weightDecay, step;
  bool decoupled;
};
/** Runs one Adam step. */
void adam(const AdamArgs& g);

}  // namespace aiayn
