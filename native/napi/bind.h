// The N-API side of every kernel: a function that reads its one argument object into the kernel's struct (a
// reader per struct, napi/bind_*.cc), runs the plain C++ kernel and turns a failure into a JS exception; napi/addon.cc
// registers them all.
#pragma once

#include <napi.h>

#include <string>
#include <type_traits>

#include "kernels/attention.h"
#include "kernels/decoder_step.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/nn.h"
#include "kernels/reduce.h"
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

// The readers, one per kernel struct: each reads and checks its kernel's argument object, whose fields it lists
// (napi/bind_<family>.cc, named after src/backend/ts/).
CopyArgs readCopy(const Reader& r);
UnaryArgs readUnary(const Reader& r);
UnaryBackwardArgs readUnaryBackward(const Reader& r);
BinaryArgs readBinary(const Reader& r);
WhereArgs readWhere(const Reader& r);
ReduceArgs readReduce(const Reader& r);
ArgmaxArgs readArgmax(const Reader& r);
GemmArgs readGemm(const Reader& r);
GemmArgs readDirectSgemm(const Reader& r);
SoftmaxArgs readSoftmax(const Reader& r);
SoftmaxBackwardArgs readSoftmaxBackward(const Reader& r);
LayerNormArgs readLayerNorm(const Reader& r);
LayerNormBackwardArgs readLayerNormBackward(const Reader& r);
CrossEntropyArgs readCrossEntropy(const Reader& r);
DropoutArgs readDropout(const Reader& r);
DropoutBackwardArgs readDropoutBackward(const Reader& r);
EmbeddingArgs readEmbedding(const Reader& r);
EmbeddingBackwardArgs readEmbeddingBackward(const Reader& r);
AdamArgs readAdam(const Reader& r);
AttentionScoresArgs readAttentionScores(const Reader& r);
AttentionBackwardArgs readAttentionBackward(const Reader& r);

/** decoderStepBind(args): reads and checks a decoder step's operands but the token's once; returns the bound step. */
Napi::Value DecoderStepBind(const Napi::CallbackInfo& info);
/** decoderStepRun({step, past, ids, out}): one token of a bound step (checked against what it was bound with). */
void DecoderStepRun(const Napi::CallbackInfo& info);

}  // namespace aiayn
