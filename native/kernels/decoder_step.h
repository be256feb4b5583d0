// One token of the Transformer decoder (src/backend/ts/decoder-step.ts, §3.1) for every row of a batch, with
// key/value caches, in one call; or of a decoder-only model (GPT's blocks: no encoder-decoder attention). Plain
// C++: the operands arrive checked (napi/bind_decoder_step.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aiayn {

/** Sizes of one step (dk = d / h) and the model's options: cross false for a decoder-only step (src 0). */
struct DecoderDims {
  int64_t rows, d, h, dk, ff, vocab, src, past, capacity;
  bool normFirst, cross;
  int activation;  // the FFN's: kRelu, kGelu or kGeluTanh (kernels/activations.h)
  double eps;
};

/**
 * One decoder layer (PyTorch layouts): self-attention in_proj [3d, d] and out_proj, encoder-decoder attention's
 * query and out_proj, the FFN's two Linears, the three sublayers' LayerNorms; the self-attention caches (rows, h,
 * capacity, dk), of which the step writes position `past`, and the memory's (rows, h, src, dk). The cross* fields,
 * norm2's and the memory's are nullptr in a decoder-only step.
 */
struct DecoderLayerRef {
  const float *selfInW, *selfInB, *selfOutW, *selfOutB, *norm1G, *norm1B;
  const float *crossQW, *crossQB, *crossOutW, *crossOutB, *norm2G, *norm2B;
  const float *ff1W, *ff1B, *ff2W, *ff2B, *norm3G, *norm3B;
  float *selfK, *selfV, *crossK, *crossV;
};

/**
 * The step's operands: the last token of each row (ids) looked up in embedding [V', d] times embedScale plus
 * row `past` of the positional encodings [> past, d]; source padding (rows, src), nonzero = pad (nullptr when
 * decoder-only); the layers; the final norm (finalGamma nullptr: none); the generator [vocab, d] and its bias
 * (nullptr: none); out (rows, vocab), the log-probabilities.
 */
struct DecoderStepArgs {
  DecoderDims dims;
  const int32_t* ids;
  float embedScale;
  const float *embedding, *positional, *srcPad;
  std::vector<DecoderLayerRef> layers;
  const float *finalGamma, *finalBeta;
  const float *generatorW, *generatorB;
  float* out;
};

/** Runs the step; returns an error message, empty on success. */
std::string decoderStep(const DecoderStepArgs& g);

}  // namespace aiayn
