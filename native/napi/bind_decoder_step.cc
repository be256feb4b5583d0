// The decoder step's two N-API functions (kernels/decoder_step.h): decoderStepBind reads a DecoderStepArgs of
// src/backend/host/kernels.ts once, every tensor's length checked against the sizes, and returns it bound;
// decoderStepRun then takes one token's operands (past, ids, out) a call, so a token costs four field reads
// instead of a hundred.
#include <memory>
#include <string>

#include "kernels/activations.h"
#include "kernels/decoder_step.h"
#include "napi/bind.h"

namespace aiayn {
namespace {

/** How many floats a layer tensor holds, in terms of the step's sizes. */
enum class Size { k3DD, k3D, kDD, kD, kFD, kF, kCache, kMemory };

/** A float tensor of DecoderLayerRef: its member, field name, what it is (for messages) and its size. */
template <class T>
struct LayerField {
  T* DecoderLayerRef::*member;
  const char* name;
  const char* what;
  Size size;
};

/** The layer's weights (read only) but encoder-decoder attention's. */
constexpr LayerField<const float> kWeights[] = {
    {&DecoderLayerRef::selfInW, "selfInW", "self in_proj weight", Size::k3DD},
    {&DecoderLayerRef::selfInB, "selfInB", "self in_proj bias", Size::k3D},
    {&DecoderLayerRef::selfOutW, "selfOutW", "self out_proj weight", Size::kDD},
    {&DecoderLayerRef::selfOutB, "selfOutB", "self out_proj bias", Size::kD},
    {&DecoderLayerRef::norm1G, "norm1G", "norm1 weight", Size::kD},
    {&DecoderLayerRef::norm1B, "norm1B", "norm1 bias", Size::kD},
    {&DecoderLayerRef::ff1W, "ff1W", "linear1 weight", Size::kFD},
    {&DecoderLayerRef::ff1B, "ff1B", "linear1 bias", Size::kF},
    {&DecoderLayerRef::ff2W, "ff2W", "linear2 weight", Size::kFD},
    {&DecoderLayerRef::ff2B, "ff2B", "linear2 bias", Size::kD},
    {&DecoderLayerRef::norm3G, "norm3G", "norm3 weight", Size::kD},
    {&DecoderLayerRef::norm3B, "norm3B", "norm3 bias", Size::kD},
};

/** Encoder-decoder attention's weights (absent from a decoder-only step). */
constexpr LayerField<const float> kCrossWeights[] = {
    {&DecoderLayerRef::crossQW, "crossQW", "cross query weight", Size::kDD},
    {&DecoderLayerRef::crossQB, "crossQB", "cross query bias", Size::kD},
    {&DecoderLayerRef::crossOutW, "crossOutW", "cross out_proj weight", Size::kDD},
    {&DecoderLayerRef::crossOutB, "crossOutB", "cross out_proj bias", Size::kD},
    {&DecoderLayerRef::norm2G, "norm2G", "norm2 weight", Size::kD},
    {&DecoderLayerRef::norm2B, "norm2B", "norm2 bias", Size::kD},
};

/** The layer's self-attention key/value caches, which the step writes. */
constexpr LayerField<float> kCaches[] = {
    {&DecoderLayerRef::selfK, "selfK", "self keys", Size::kCache},
    {&DecoderLayerRef::selfV, "selfV", "self values", Size::kCache},
};

/** The memory's keys and values (encoder-decoder attention's). */
constexpr LayerField<float> kCrossCaches[] = {
    {&DecoderLayerRef::crossK, "crossK", "cross keys", Size::kMemory},
    {&DecoderLayerRef::crossV, "crossV", "cross values", Size::kMemory},
};

/** Floats of a tensor of size `size` for the sizes D. */
int64_t floatsOf(const Reader& r, Size size, const DecoderDims& D) {
  switch (size) {
    case Size::k3DD: return r.product({3, D.d, D.d});
    case Size::k3D: return 3 * D.d;
    case Size::kDD: return r.product({D.d, D.d});
    case Size::kD: return D.d;
    case Size::kFD: return r.product({D.ff, D.d});
    case Size::kF: return D.ff;
    case Size::kCache: return r.product({D.rows, D.d, D.capacity});
    default: return r.product({D.rows, D.d, D.src});
  }
}

/** Reads the fields of one table into `layer`, each checked against its size. */
template <class T, size_t N>
void readFields(const Reader& r, const LayerField<T> (&table)[N], const DecoderDims& D, DecoderLayerRef& layer) {
  for (const LayerField<T>& f : table) {
    const F32 t = r.f32(f.name);
    r.needLength(t.length, floatsOf(r, f.size, D), f.name, f.what);
    layer.*f.member = t.data;
  }
}

/**
 * The sizes and options ({rows, dModel, heads, dFF, vocab, srcLen, capacity, normFirst, cross, activation (a unary
 * op code), eps}), checked. cross false: a decoder-only step, srcLen 0.
 */
DecoderDims readDims(const Reader& r) {
  DecoderDims D{r.size("rows"), r.size("dModel"), r.size("heads"), 0, r.size("dFF"), r.size("vocab"), r.size("srcLen"),
                0, r.size("capacity"), r.boolean("normFirst"), r.boolean("cross"), r.op("activation", kUnaryOpCount), r.number("eps")};
  if (D.activation != kRelu && D.activation != kGelu && D.activation != kGeluTanh) r.fail("activation must be relu, gelu or geluTanh", true);
  if (D.d < 1 || D.h < 1 || D.d % D.h != 0) r.fail("dModel must be a positive multiple of heads", true);
  if (D.ff < 1 || D.vocab < 1) r.fail("dFF and vocab must be positive", true);
  if (D.cross ? D.src < 1 : D.src != 0) r.fail(D.cross ? "srcLen must be positive" : "a decoder-only step (cross false) has srcLen 0", true);
  if (D.capacity < 1) r.fail("capacity must be positive", true);
  D.dk = D.d / D.h;
  return D;
}

/** A step bound by decoderStepBind: its operands, the table sizes its tokens are checked against, and a reference to
 * the argument object that keeps the arrays they point into alive. */
struct BoundStep {
  DecoderStepArgs args;
  int64_t tableRows;       // rows of the embedding table
  int64_t positionalRows;  // rows of the positional table
  Napi::ObjectReference keep;
};

/** The type tag of a BoundStep external (napi_check_object_type_tag), so another external is refused. */
constexpr napi_type_tag kBoundStepTag = {0x61696179'6e646563ULL, 0x6f64657273746570ULL};

/**
 * {rows, dModel, heads, dFF, vocab, srcLen, capacity, normFirst, cross, activation, eps, embedding, embedScale,
 * positional, srcPad (null unless cross), layers: DecoderStepLayer[] (cross fields null unless cross), finalNorm:
 * {gamma, beta} | null, generatorW, generatorB | null}
 */
void readBound(const Reader& r, BoundStep& b) {
  DecoderStepArgs& g = b.args;
  g.dims = readDims(r);
  const DecoderDims& D = g.dims;
  const F32 embedding = r.f32("embedding");
  b.tableRows = embedding.length / D.d;
  g.embedding = embedding.data;
  g.embedScale = static_cast<float>(r.number("embedScale"));
  const F32 positional = r.f32("positional");
  b.positionalRows = positional.length / D.d;
  r.needLength(positional.length, D.d, "positional", "positional encodings");
  g.positional = positional.data;
  const auto dense = [&](const char* name, int64_t need, const char* what) {
    const F32 t = r.f32(name);
    r.needLength(t.length, need, name, what);
    return t.data;
  };
  g.srcPad = D.cross ? dense("srcPad", r.product({D.rows, D.src}), "source padding") : nullptr;
  g.generatorW = dense("generatorW", r.product({D.vocab, D.d}), "generator weight");
  const F32 generatorB = r.f32OrNull("generatorB");
  if (generatorB.data != nullptr) r.needLength(generatorB.length, D.vocab, "generatorB", "generator bias");
  g.generatorB = generatorB.data;
  if (const std::optional<Reader> norm = r.objectOrNull("finalNorm")) {
    const F32 gamma = norm->f32("gamma");
    const F32 beta = norm->f32("beta");
    norm->needLength(gamma.length, D.d, "gamma", "final norm weight");
    norm->needLength(beta.length, D.d, "beta", "final norm bias");
    g.finalGamma = gamma.data;
    g.finalBeta = beta.data;
  }
  const std::vector<Reader> layers = r.objects("layers");
  if (layers.empty()) r.fail("needs at least one layer", true);
  g.layers.resize(layers.size());
  for (size_t l = 0; l < layers.size(); l++) {
    readFields(layers[l], kWeights, D, g.layers[l]);
    readFields(layers[l], kCaches, D, g.layers[l]);
    if (D.cross) {
      readFields(layers[l], kCrossWeights, D, g.layers[l]);
      readFields(layers[l], kCrossCaches, D, g.layers[l]);
    }
  }
}

}  // namespace

Napi::Value DecoderStepBind(const Napi::CallbackInfo& info) {
  const Reader r(info, "decoderStepBind");
  auto bound = std::make_unique<BoundStep>();
  readBound(r, *bound);
  bound->keep = Napi::Persistent(info[0].As<Napi::Object>());
  Napi::External<BoundStep> step = Napi::External<BoundStep>::New(info.Env(), bound.release(), [](Napi::Env, BoundStep* b) { delete b; });
  if (napi_type_tag_object(info.Env(), step, &kBoundStepTag) != napi_ok) throw Napi::Error::New(info.Env());
  return step;
}

void DecoderStepRun(const Napi::CallbackInfo& info) {
  const Reader r(info, "decoderStepRun");
  BoundStep& b = *static_cast<BoundStep*>(r.external("step", kBoundStepTag, "a step from decoderStepBind"));
  DecoderStepArgs& g = b.args;  // JavaScript runs one call at a time: the token's fields are set in place
  DecoderDims& D = g.dims;
  const int64_t past = r.size("past");
  if (past >= D.capacity) r.fail("the self-attention cache has no room for position " + std::to_string(past), true);
  if (past >= b.positionalRows) r.fail("the positional table has no row for position " + std::to_string(past), true);
  const I32 ids = r.i32("ids");
  r.needLength(ids.length, D.rows, "ids");
  for (int64_t i = 0; i < D.rows; i++) {
    if (ids.data[i] < 0 || ids.data[i] >= b.tableRows) {
      r.fail("token id " + std::to_string(ids.data[i]) + " is outside the embedding table of " + std::to_string(b.tableRows) + " rows", true);
    }
  }
  float* out = r.floats("out", r.product({D.rows, D.vocab}), "log-probabilities");
  D.past = past;
  g.ids = ids.data;
  g.out = out;
  report(r, decoderStep(g));
}

}  // namespace aiayn
