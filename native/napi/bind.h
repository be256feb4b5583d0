// The N-API side of every kernel: a function that reads its one argument object into the kernel's struct (a
// reader per struct, napi/bind_*.cc), runs the plain C++ kernel and turns a failure into a JS exception; and the
// registration of each family's functions on the addon's exports (napi/addon.cc).
#pragma once

#include <napi.h>

#include <string>
#include <type_traits>

#include "napi/read.h"

namespace aiayn {

/** Throws unless a dnnl_sgemm status is success (0). */
inline void report(const Reader& r, int status) {
  if (status != 0) r.fail("dnnl_sgemm failed with status " + std::to_string(status), true);
}

/** Throws a kernel's error message unless it is empty. */
inline void report(const Reader& r, const std::string& error) {
  if (!error.empty()) r.fail(error, true);
}

/** Field "p" of r as a dropout probability, in [0, 1). */
inline double dropoutP(const Reader& r) {
  const double p = r.number("p");
  if (!(p >= 0.0 && p < 1.0)) r.fail("dropout p must be in [0, 1)", true);
  return p;
}

/** The N-API function of a kernel: READ(reader) makes its struct, KERNEL runs it; the kernel's name is the function's data. */
template <auto READ, auto KERNEL>
void callKernel(const Napi::CallbackInfo& info) {
  const Reader r(info, static_cast<const char*>(info.Data()));
  if constexpr (std::is_void_v<decltype(KERNEL(READ(r)))>) {
    KERNEL(READ(r));
  } else {
    report(r, KERNEL(READ(r)));
  }
}

/** Sets exports[name] to the N-API function of READ and KERNEL (see callKernel). */
template <auto READ, auto KERNEL>
void exportKernel(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New<callKernel<READ, KERNEL>>(env, name, const_cast<char*>(name)));
}

/** Registers copy, unary, unaryBackward, binary, where and the op name lists. */
void initElementwise(Napi::Env env, Napi::Object exports);
/** Registers reduce, argmax and the reduce op names. */
void initReduce(Napi::Env env, Napi::Object exports);
/** Registers gemm and directSgemm. */
void initGemm(Napi::Env env, Napi::Object exports);
/** Registers softmax, layerNorm, crossEntropy, dropout, embedding, adam and their backwards. */
void initNn(Napi::Env env, Napi::Object exports);
/** Registers attentionScores and attentionBackward. */
void initAttention(Napi::Env env, Napi::Object exports);
/** Registers decoderStep. */
void initDecoderStep(Napi::Env env, Napi::Object exports);

}  // namespace aiayn
