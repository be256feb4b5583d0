// LayerNorm over the last dimension (biased variance) and its backward, which accumulates (+=) into dgamma and
// dbeta. Row statistics in float vector lanes per chunk, the chunks added in double; parameter gradients summed
// in float over kSumBlock rows, then per thread in double, the threads added in a fixed order.
#include <algorithm>
#include <cmath>
#include <vector>

#include <omp.h>

#include "common.h"
#include "vmath.h"

namespace aiayn {
namespace {

/** layerNorm(x, gamma, beta, rows, cols, eps, out, mean, rstd [, y, sum]): with y, of sum = x + y (written). */
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  F32 gamma = argF32(info, 1, "gamma");
  F32 beta = argF32(info, 2, "beta");
  const int64_t rows = argSize(info, 3, "rows");
  const int64_t cols = argSize(info, 4, "cols");
  const double eps = argNumber(info, 5, "eps");
  F32 out = argF32(info, 6, "out");
  F32 mean = argF32(info, 7, "mean");
  F32 rstd = argF32(info, 8, "rstd");
  const int64_t total = product(env, {rows, cols});
  needLength(env, x.length, total, "x");
  needLength(env, out.length, total, "out");
  needLength(env, gamma.length, cols, "gamma");
  needLength(env, beta.length, cols, "beta");
  needLength(env, mean.length, rows, "mean");
  needLength(env, rstd.length, rows, "rstd");
  const bool residual = info.Length() > 9 && !info[9].IsUndefined();
  const F32 y = residual ? argF32(info, 9, "y") : F32{nullptr, 0};
  const F32 sum = residual ? argF32(info, 10, "sum") : F32{nullptr, 0};
  if (residual) {
    needLength(env, y.length, total, "y");
    needLength(env, sum.length, total, "sum");
  }
  const LayerNormArgs a{residual ? sum.data : x.data, gamma.data, beta.data, cols, eps, out.data, mean.data, rstd.data,
                        nullptr, nullptr};
  const VMath& vm = vmath();
  parallelIf(total >= kParallelGrain && rows > 1, [&] {
    const int64_t r0 = rows * omp_get_thread_num() / omp_get_num_threads();
    const int64_t r1 = rows * (omp_get_thread_num() + 1) / omp_get_num_threads();
    if (!residual) return vm.layerNormRows(a, r0, r1);
    for (int64_t r = r0; r < r1; r++) {  // each row summed, then normalised while still in L1
      const float* xr = x.data + r * cols;
      const float* yr = y.data + r * cols;
      float* sr = sum.data + r * cols;
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) sr[j] = xr[j] + yr[j];
      vm.layerNormRows(a, r, r + 1);
    }
  });
  return env.Undefined();
}

/** layerNormBackward(x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta) */
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  F32 gamma = argF32(info, 1, "gamma");
  F32 mean = argF32(info, 2, "mean");
  F32 rstd = argF32(info, 3, "rstd");
  F32 dy = argF32(info, 4, "dy");
  const int64_t rows = argSize(info, 5, "rows");
  const int64_t cols = argSize(info, 6, "cols");
  F32 dx = argF32(info, 7, "dx");
  F32 dgamma = argF32(info, 8, "dgamma");
  F32 dbeta = argF32(info, 9, "dbeta");
  const int64_t total = product(env, {rows, cols});
  needLength(env, x.length, total, "x");
  needLength(env, dy.length, total, "dy");
  needLength(env, dx.length, total, "dx");
  needLength(env, gamma.length, cols, "gamma");
  needLength(env, dgamma.length, cols, "dgamma");
  needLength(env, dbeta.length, cols, "dbeta");
  needLength(env, mean.length, rows, "mean");
  needLength(env, rstd.length, rows, "rstd");
  const bool parallel = total >= kParallelGrain && rows > 1;
  const int slots = parallel ? omp_get_max_threads() : 1;
  std::vector<double> partG(static_cast<size_t>(slots) * cols, 0.0);
  std::vector<double> partB(static_cast<size_t>(slots) * cols, 0.0);
  const LayerNormArgs a{x.data, gamma.data, nullptr, cols, 0.0, nullptr, mean.data, rstd.data, dy.data, dx.data};
  const VMath& vm = vmath();
  parallelIf(parallel, [&] {
    const size_t slot = static_cast<size_t>(omp_get_thread_num());
    const int64_t r0 = rows * omp_get_thread_num() / omp_get_num_threads();
    const int64_t r1 = rows * (omp_get_thread_num() + 1) / omp_get_num_threads();
    thread_local std::vector<float> blockG, blockB;  // kSumBlock rows of dgamma and dbeta terms in float
    double* sg = partG.data() + slot * cols;
    double* sb = partB.data() + slot * cols;
    for (int64_t b = r0; b < r1; b += kSumBlock) {
      blockG.assign(cols, 0.0f);
      blockB.assign(cols, 0.0f);
      vm.layerNormBackwardRows(a, b, std::min(r1, b + kSumBlock), blockG.data(), blockB.data());
      for (int64_t j = 0; j < cols; j++) {
        sg[j] += blockG[j];
        sb[j] += blockB[j];
      }
    }
  });
  for (int64_t j = 0; j < cols; j++) {
    double sg = 0.0;
    double sb = 0.0;
    for (int s = 0; s < slots; s++) {
      sg += partG[static_cast<size_t>(s) * cols + j];
      sb += partB[static_cast<size_t>(s) * cols + j];
    }
    dgamma.data[j] = static_cast<float>(dgamma.data[j] + sg);
    dbeta.data[j] = static_cast<float>(dbeta.data[j] + sb);
  }
  return env.Undefined();
}

}  // namespace

void initLayerNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm, "layerNorm"));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward, "layerNormBackward"));
}

}  // namespace aiayn
