// One token of the Transformer decoder (§3.1) for every row of a batch, with key/value caches, in one call:
// what TransformerDecoder.step otherwise computes through about 60 kernel calls a token, without returning to
// JavaScript between them. Operands and semantics: Backend.decoderStep in src/backend/backend.ts; the order of
// the `tensors` array: src/backend/native/index.ts (decoderStepTensors).
#include <cmath>
#include <string>
#include <vector>

#include <omp.h>

#include "common.h"
#include "vmath.h"

namespace aiayn {
namespace {

/** Tensors before the layers: token embedding table, PE row, generator weight and bias, final norm, source padding. */
enum Head { kEmbedding, kPositional, kGeneratorW, kGeneratorB, kFinalGamma, kFinalBeta, kSrcPad, kHeadTensors };

/** Tensors of one layer, in order. */
enum Layer {
  kSelfInW, kSelfInB, kSelfOutW, kSelfOutB, kNorm1G, kNorm1B,
  kCrossQW, kCrossQB, kCrossOutW, kCrossOutB, kNorm2G, kNorm2B,
  kFf1W, kFf1B, kFf2W, kFf2B, kNorm3G, kNorm3B,
  kSelfK, kSelfV, kCrossK, kCrossV, kLayerTensors
};

/** Sizes of one step. */
struct Dims {
  int64_t rows, d, h, dk, ff, vocab, src, past, capacity;
  bool normFirst, gelu;
  double eps;
};

/** Scratch of one step, kept between calls. */
struct Scratch {
  std::vector<float> x, in, sum, qkv, attn, y, hidden, mask, scores, stats;
};

/** out = LayerNorm(x) over rows of d (stats: 2 * rows floats of scratch). */
void normRows(const VMath& vm, const Dims& D, const float* x, const float* gamma, const float* beta, float* out, float* stats) {
  vm.layerNormRows({x, gamma, beta, D.d, D.eps, out, stats, stats + D.rows, nullptr, nullptr}, 0, D.rows);
}

/**
 * One residual sublayer (§3.1) around x given its output y: post-LN x = LayerNorm(x + y), pre-LN x = x + y (the
 * sublayer then read LayerNorm(x), see sublayerInput).
 */
void closeSublayer(const VMath& vm, const Dims& D, float* x, const float* y, const float* gamma, const float* beta, Scratch& s) {
  const int64_t n = D.rows * D.d;
  if (D.normFirst) {
    for (int64_t i = 0; i < n; i++) x[i] += y[i];
    return;
  }
  for (int64_t i = 0; i < n; i++) s.sum[i] = x[i] + y[i];
  normRows(vm, D, s.sum.data(), gamma, beta, x, s.stats.data());
}

/** What a sublayer reads: LayerNorm(x) when pre-LN, else x itself. */
const float* sublayerInput(const VMath& vm, const Dims& D, const float* x, const float* gamma, const float* beta, Scratch& s) {
  if (!D.normFirst) return x;
  normRows(vm, D, x, gamma, beta, s.in.data(), s.stats.data());
  return s.in.data();
}

/**
 * attn (rows, h * dK) = eq. (1) for one query per row and head over n keys of k and v, (rows, h, ld / dK
 * positions, dK); masks (rows, n) additive or nullptr. The heads are spread over the threads.
 */
void attendAll(const VMath& vm, const Dims& D, const float* q, int64_t ldq, const float* k, const float* v, int64_t positions,
               int64_t n, const float* masks, Scratch& s) {
  const int64_t pairs = D.rows * D.h;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D.dk)));
  float* attn = s.attn.data();
  float* scores = s.scores.data();
  parallelIf(pairs > 1 && pairs * n * D.dk >= kParallelGrain, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t p = 0; p < pairs; p++) {
      const int64_t r = p / D.h;
      const int64_t head = p % D.h;
      const int64_t at = p * positions * D.dk;  // (r, head, 0, 0) of k and v
      vm.attendRow(q + r * ldq + head * D.dk, k + at, v + at, D.dk, n, D.dk, scale, masks == nullptr ? nullptr : masks + r * n,
                   scores + p * n, attn + r * D.d + head * D.dk);
    }
  });
}

/** The step; returns an error message, empty on success. */
std::string step(const Dims& D, const int32_t* ids, float embedScale, const std::vector<F32>& t, float* out) {
  static thread_local Scratch s;
  const VMath& vm = vmath();
  const int64_t rd = D.rows * D.d;
  const int64_t keys = std::max(D.past + 1, D.src);
  s.x.resize(rd); s.in.resize(rd); s.sum.resize(rd); s.attn.resize(rd); s.y.resize(rd);
  s.qkv.resize(3 * rd); s.hidden.resize(D.rows * D.ff); s.mask.resize(D.rows * D.src);
  s.scores.resize(D.rows * D.h * keys); s.stats.resize(2 * D.rows);
  float* x = s.x.data();
  for (int64_t r = 0; r < D.rows; r++) {  // token embedding * sqrt(d_model) (§3.4) + PE(past) (§3.5)
    const float* e = t[kEmbedding].data + static_cast<int64_t>(ids[r]) * D.d;
    for (int64_t j = 0; j < D.d; j++) x[r * D.d + j] = e[j] * embedScale + t[kPositional].data[j];
  }
  for (int64_t i = 0; i < D.rows * D.src; i++) s.mask[i] = t[kSrcPad].data[i] != 0.0f ? -INFINITY : 0.0f;
  const size_t layers = (t.size() - kHeadTensors) / kLayerTensors;
  for (size_t l = 0; l < layers; l++) {
    const F32* w = t.data() + kHeadTensors + l * kLayerTensors;
    // Masked self-attention: this position's keys and values join the cache, the query sees positions 0..past.
    const float* in = sublayerInput(vm, D, x, w[kNorm1G].data, w[kNorm1B].data, s);
    if (!linearRows(in, D.rows, D.d, w[kSelfInW].data, 3 * D.d, w[kSelfInB].data, s.qkv.data())) return "dnnl_sgemm failed";
    for (int64_t r = 0; r < D.rows; r++) {
      for (int64_t head = 0; head < D.h; head++) {
        const int64_t at = ((r * D.h + head) * D.capacity + D.past) * D.dk;
        const float* kv = s.qkv.data() + r * 3 * D.d + head * D.dk;
        for (int64_t j = 0; j < D.dk; j++) {
          w[kSelfK].data[at + j] = kv[D.d + j];
          w[kSelfV].data[at + j] = kv[2 * D.d + j];
        }
      }
    }
    attendAll(vm, D, s.qkv.data(), 3 * D.d, w[kSelfK].data, w[kSelfV].data, D.capacity, D.past + 1, nullptr, s);
    if (!linearRows(s.attn.data(), D.rows, D.d, w[kSelfOutW].data, D.d, w[kSelfOutB].data, s.y.data())) return "dnnl_sgemm failed";
    closeSublayer(vm, D, x, s.y.data(), w[kNorm1G].data, w[kNorm1B].data, s);
    // Encoder-decoder attention over the memory's cached keys and values, padding masked.
    in = sublayerInput(vm, D, x, w[kNorm2G].data, w[kNorm2B].data, s);
    if (!linearRows(in, D.rows, D.d, w[kCrossQW].data, D.d, w[kCrossQB].data, s.qkv.data())) return "dnnl_sgemm failed";
    attendAll(vm, D, s.qkv.data(), D.d, w[kCrossK].data, w[kCrossV].data, D.src, D.src, s.mask.data(), s);
    if (!linearRows(s.attn.data(), D.rows, D.d, w[kCrossOutW].data, D.d, w[kCrossOutB].data, s.y.data())) return "dnnl_sgemm failed";
    closeSublayer(vm, D, x, s.y.data(), w[kNorm2G].data, w[kNorm2B].data, s);
    // Position-wise FFN, eq. (2).
    in = sublayerInput(vm, D, x, w[kNorm3G].data, w[kNorm3B].data, s);
    float* hidden = s.hidden.data();
    if (!linearRows(in, D.rows, D.d, w[kFf1W].data, D.ff, w[kFf1B].data, hidden)) return "dnnl_sgemm failed";
    const int64_t nh = D.rows * D.ff;
    if (D.gelu) {
      for (int64_t i = 0; i < nh; i++) {  // exact GELU, as the elementwise kernel computes it
        const double v = hidden[i];
        hidden[i] = static_cast<float>(0.5 * v * std::erfc(-v * M_SQRT1_2));
      }
    } else {
      for (int64_t i = 0; i < nh; i++) hidden[i] = hidden[i] > 0.0f ? hidden[i] : 0.0f;
    }
    if (!linearRows(hidden, D.rows, D.ff, w[kFf2W].data, D.d, w[kFf2B].data, s.y.data())) return "dnnl_sgemm failed";
    closeSublayer(vm, D, x, s.y.data(), w[kNorm3G].data, w[kNorm3B].data, s);
  }
  if (t[kFinalGamma].length > 0) {
    normRows(vm, D, x, t[kFinalGamma].data, t[kFinalBeta].data, s.in.data(), s.stats.data());
    x = s.in.data();
  }
  if (!linearRows(x, D.rows, D.d, t[kGeneratorW].data, D.vocab, t[kGeneratorB].data, out)) return "dnnl_sgemm failed";
  parallelIf(D.rows > 1 && D.rows * D.vocab >= kParallelGrain, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < D.rows; r++) vm.softmaxRow(out + r * D.vocab, nullptr, 0, D.vocab, 1.0f, true, out + r * D.vocab);
  });
  return "";
}

/**
 * decoderStep(dims [rows, dModel, heads, dFF, vocab, srcLen, past, capacity], normFirst, gelu, eps, ids,
 * embedScale, tensors, out): see Backend.decoderStep. Every tensor's length is checked against the dims.
 */
Napi::Value DecoderStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<int64_t> dims = argShape(info, 0, "dims");
  if (dims.size() != 8) fail(env, "decoderStep: dims needs 8 sizes", true);
  Dims D{dims[0], dims[1], dims[2], 0, dims[3], dims[4], dims[5], dims[6], dims[7], argBool(info, 1, "normFirst"),
         argBool(info, 2, "gelu"), argNumber(info, 3, "eps")};
  if (D.d < 1 || D.h < 1 || D.d % D.h != 0) fail(env, "decoderStep: dModel must be a positive multiple of heads", true);
  if (D.ff < 1 || D.vocab < 1 || D.src < 1) fail(env, "decoderStep: dFF, vocab and srcLen must be positive", true);
  if (D.past >= D.capacity) fail(env, "decoderStep: the self-attention cache has no room for position " + std::to_string(D.past), true);
  D.dk = D.d / D.h;
  const I32 ids = argI32(info, 4, "ids");
  const float embedScale = static_cast<float>(argNumber(info, 5, "embedScale"));
  if (!info[6].IsArray()) fail(env, "'tensors' must be an array of Float32Arrays");
  Napi::Array list = info[6].As<Napi::Array>();
  const uint32_t count = list.Length();
  if (count < kHeadTensors + kLayerTensors || (count - kHeadTensors) % kLayerTensors != 0) {
    fail(env, "decoderStep: 'tensors' needs " + std::to_string(kHeadTensors) + " + " + std::to_string(kLayerTensors) +
              " per layer Float32Arrays, got " + std::to_string(count), true);
  }
  std::vector<F32> t(count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      fail(env, "decoderStep: tensors[" + std::to_string(i) + "] must be a Float32Array");
    }
    auto a = v.As<Napi::Float32Array>();
    t[i] = F32{a.Data(), static_cast<int64_t>(a.ElementLength())};
  }
  F32 out = argF32(info, 7, "out");
  const int64_t d = D.d;
  needLength(env, ids.length, D.rows, "ids");
  const int64_t tableRows = t[kEmbedding].length / d;
  for (int64_t r = 0; r < D.rows; r++) {
    if (ids.data[r] < 0 || ids.data[r] >= tableRows) {
      fail(env, "decoderStep: token id " + std::to_string(ids.data[r]) + " is outside the embedding table of " +
                std::to_string(tableRows) + " rows", true);
    }
  }
  needLength(env, t[kPositional].length, d, "positional");
  needLength(env, t[kGeneratorW].length, product(env, {D.vocab, d}), "generator weight");
  needLength(env, t[kGeneratorB].length, D.vocab, "generator bias");
  if (t[kFinalGamma].length > 0 || t[kFinalBeta].length > 0) {
    needLength(env, t[kFinalGamma].length, d, "final norm weight");
    needLength(env, t[kFinalBeta].length, d, "final norm bias");
  }
  needLength(env, t[kSrcPad].length, product(env, {D.rows, D.src}), "srcPad");
  const int64_t need[kLayerTensors] = {
      3 * d * d, 3 * d, d * d, d, d, d, d * d, d, d * d, d, d, d, D.ff * d, D.ff, d * D.ff, d, d, d,
      product(env, {D.rows, d, D.capacity}), product(env, {D.rows, d, D.capacity}), product(env, {D.rows, d, D.src}),
      product(env, {D.rows, d, D.src})};
  static const char* const kNames[kLayerTensors] = {
      "self in_proj weight", "self in_proj bias", "self out_proj weight", "self out_proj bias", "norm1 weight", "norm1 bias",
      "cross query weight", "cross query bias", "cross out_proj weight", "cross out_proj bias", "norm2 weight", "norm2 bias",
      "linear1 weight", "linear1 bias", "linear2 weight", "linear2 bias", "norm3 weight", "norm3 bias",
      "self keys", "self values", "cross keys", "cross values"};
  for (uint32_t i = kHeadTensors; i < count; i++) needLength(env, t[i].length, need[(i - kHeadTensors) % kLayerTensors], kNames[(i - kHeadTensors) % kLayerTensors]);
  needLength(env, out.length, product(env, {D.rows, D.vocab}), "out");
  if (D.rows == 0) return env.Undefined();
  const std::string error = step(D, ids.data, embedScale, t, out.data);
  if (!error.empty()) fail(env, "decoderStep: " + error, true);
  return env.Undefined();
}

}  // namespace

void initDecoderStep(Napi::Env env, Napi::Object exports) {
  exports.Set("decoderStep", Napi::Function::New(env, DecoderStep, "decoderStep"));
}

}  // namespace aiayn
