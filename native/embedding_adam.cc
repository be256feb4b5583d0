// Embedding gather and scatter-add (parallel over columns, so repeated ids never race and the summation order
// matches the TypeScript oracle), and the Adam / AdamW update with bias correction (loop in vmath_impl.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include <omp.h>

#include "common.h"
#include "vmath.h"

namespace aiayn {
namespace {

/** Throws unless every id selects a row of a table with `rows` rows. */
void checkIds(Napi::Env env, const I32& ids, int64_t rows) {
  for (int64_t i = 0; i < ids.length; i++) {
    if (ids.data[i] < 0 || ids.data[i] >= rows) {
      fail(env, "id " + std::to_string(ids.data[i]) + " is outside the embedding table", true);
    }
  }
}

/** embedding(weight, ids, dim, out) */
Napi::Value Embedding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 weight = argF32(info, 0, "weight");
  I32 ids = argI32(info, 1, "ids");
  const int64_t dim = argSize(info, 2, "dim");
  F32 out = argF32(info, 3, "out");
  needLength(env, out.length, product(env, {ids.length, dim}), "out");
  if (dim == 0) return env.Undefined();
  checkIds(env, ids, weight.length / dim);
  parallelIf(ids.length * dim >= kParallelGrain && ids.length > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < ids.length; i++) {
      std::memcpy(out.data + i * dim, weight.data + static_cast<int64_t>(ids.data[i]) * dim, sizeof(float) * dim);
    }
  });
  return env.Undefined();
}

/** embeddingBackward(dy, ids, dim, dweight, fresh): dweight zeroed first when fresh. */
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 dy = argF32(info, 0, "dy");
  I32 ids = argI32(info, 1, "ids");
  const int64_t dim = argSize(info, 2, "dim");
  F32 dw = argF32(info, 3, "dweight");
  const bool fresh = argBool(info, 4, "fresh");
  needLength(env, dy.length, product(env, {ids.length, dim}), "dy");
  if (dim == 0) {
    if (fresh) std::fill(dw.data, dw.data + dw.length, 0.0f);
    return env.Undefined();
  }
  checkIds(env, ids, dw.length / dim);
  parallelIf((ids.length * dim >= kParallelGrain && dim >= 64) || (fresh && dw.length >= kParallelGrain), [&] {
    const int64_t nth = omp_get_num_threads();
    const int64_t tid = omp_get_thread_num();
    if (fresh) {  // each thread zeroes a contiguous share, then all scatter
      std::fill(dw.data + dw.length * tid / nth, dw.data + dw.length * (tid + 1) / nth, 0.0f);
#pragma omp barrier
    }
    const int64_t j0 = dim * tid / nth;
    const int64_t j1 = dim * (tid + 1) / nth;
    for (int64_t i = 0; i < ids.length; i++) {
      float* w = dw.data + static_cast<int64_t>(ids.data[i]) * dim;
      const float* g = dy.data + i * dim;
#pragma omp simd
      for (int64_t j = j0; j < j1; j++) w[j] += g[j];
    }
  });
  return env.Undefined();
}

/** adam(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled) */
Napi::Value Adam(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 param = argF32(info, 0, "param");
  F32 grad = argF32(info, 1, "grad");
  F32 m = argF32(info, 2, "m");
  F32 v = argF32(info, 3, "v");
  const double lr = argNumber(info, 4, "lr");
  const double beta1 = argNumber(info, 5, "beta1");
  const double beta2 = argNumber(info, 6, "beta2");
  const double eps = argNumber(info, 7, "eps");
  const double wd = argNumber(info, 8, "weightDecay");
  const double step = argNumber(info, 9, "step");
  const bool decoupled = argBool(info, 10, "decoupled");
  const int64_t n = param.length;
  needLength(env, grad.length, n, "grad");
  needLength(env, m.length, n, "m");
  needLength(env, v.length, n, "v");
  const AdamArgs args{lr, beta1, beta2, eps, wd, 1.0 - std::pow(beta1, step), 1.0 - std::pow(beta2, step),
                      wd != 0.0 && !decoupled, wd != 0.0 && decoupled};
  const VMath& vm = vmath();
  parallelIf(n >= kParallelGrain, [&] {
    const int64_t b = n * omp_get_thread_num() / omp_get_num_threads();
    const int64_t e = n * (omp_get_thread_num() + 1) / omp_get_num_threads();
    vm.adam(param.data + b, grad.data + b, m.data + b, v.data + b, e - b, args);
  });
  return env.Undefined();
}

}  // namespace

void initEmbeddingAdam(Napi::Env env, Napi::Object exports) {
  exports.Set("embedding", Napi::Function::New(env, Embedding, "embedding"));
  exports.Set("embeddingBackward", Napi::Function::New(env, EmbeddingBackward, "embeddingBackward"));
  exports.Set("adam", Napi::Function::New(env, Adam, "adam"));
}

}  // namespace aiayn
