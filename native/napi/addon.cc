// Entry point of the aiayn_native addon: thread and vector-variant control, and the table of every kernel's
// N-API function: its JS name, the reader of its argument object (napi/bind_*.cc) and its kernel (kernels/).
#include <napi.h>
#include <omp.h>

#include <oneapi/dnnl/dnnl.h>

#include <string>

#include "kernels/signals.h"
#include "napi/bind.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

/** setThreads(n): sets the OpenMP (and so oneDNN) thread count of the calling thread; returns it. */
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const double n = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0.0;
  if (!(n >= 1 && n <= 4096) || n != static_cast<int>(n)) throw Napi::RangeError::New(info.Env(), "aiayn native: threads must be an integer between 1 and 4096");
  omp_set_num_threads(static_cast<int>(n));
  startThreadTeam();
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

/** threads(): the thread count kernels run with. */
Napi::Value Threads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

/** setSimd(name): selects the vector variant ('baseline', 'avx2', 'avx512', capped by the CPU); returns it. */
Napi::Value SetSimd(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "aiayn native: setSimd needs a variant name");
  const char* chosen = setSimd(info[0].As<Napi::String>().Utf8Value().c_str());
  if (chosen == nullptr) throw Napi::RangeError::New(info.Env(), "aiayn native: simd variant must be 'baseline', 'avx2' or 'avx512'");
  return Napi::String::New(info.Env(), chosen);
}

/** simd(): the vector variant in use. */
Napi::Value Simd(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), vmath().name);
}

}  // namespace

/** Registers all functions, the op name lists and the oneDNN version string. */
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const dnnl_version_t* v = dnnl_version();
  exports.Set("dnnlVersion", Napi::String::New(env, std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                                        std::to_string(v->patch)));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("threads", Napi::Function::New(env, Threads, "threads"));
  exports.Set("setSimd", Napi::Function::New(env, SetSimd, "setSimd"));
  exports.Set("simd", Napi::Function::New(env, Simd, "simd"));
  startThreadTeam();
  exports.Set("unaryOps", opNames(env, kUnaryOpNames, kUnaryOpCount));
  exports.Set("binaryOps", opNames(env, kBinaryOpNames, kBinaryOpCount));
  exports.Set("reduceOps", opNames(env, kReduceOpNames, kReduceOpCount));
  exportKernel<readCopy, copyStrided>(env, exports, "copy");
  exportKernel<readUnary, unary>(env, exports, "unary");
  exportKernel<readUnaryBackward, unaryBackward>(env, exports, "unaryBackward");
  exportKernel<readBinary, binary>(env, exports, "binary");
  exportKernel<readWhere, where>(env, exports, "where");
  exportKernel<readReduce, reduce>(env, exports, "reduce");
  exportKernel<readArgmax, argmax>(env, exports, "argmax");
  exportKernel<readGemm, gemm>(env, exports, "gemm");
  exportKernel<readDirectSgemm, directSgemm>(env, exports, "directSgemm");
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
  exportKernel<readAttentionScores, attentionScores>(env, exports, "attentionScores");
  exportKernel<readAttentionBackward, attentionBackward>(env, exports, "attentionBackward");
  exports.Set("decoderStepBind", Napi::Function::New<DecoderStepBind>(env, "decoderStepBind"));
  exports.Set("decoderStepRun", Napi::Function::New<DecoderStepRun>(env, "decoderStepRun"));
  return exports;
}

}  // namespace aiayn

/** Module initialiser (NODE_API_MODULE needs an unqualified name). */
static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return aiayn::Init(env, exports); }

NODE_API_MODULE(aiayn_native, InitAddon)
