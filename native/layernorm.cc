// LayerNorm over the last dimension (biased variance) and its backward, which accumulates (+=) into dgamma and
// dbeta. Statistics in double (vector partial sums, so the row loops vectorise); parameter gradients summed per
// thread in double and added in a fixed order.
#include <cmath>
#include <vector>

#include <omp.h>

#include "common.h"

namespace aiayn {
namespace {

/** layerNorm(x, gamma, beta, rows, cols, eps, out, mean, rstd) */
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
  parallelIf(total >= kParallelGrain && rows > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < rows; r++) {
      const float* xr = x.data + r * cols;
      float* o = out.data + r * cols;
      double mu = 0.0;
#pragma omp simd reduction(+ : mu)
      for (int64_t j = 0; j < cols; j++) mu += xr[j];
      mu /= static_cast<double>(cols);
      double v = 0.0;
#pragma omp simd reduction(+ : v)
      for (int64_t j = 0; j < cols; j++) {
        const double d = xr[j] - mu;
        v += d * d;
      }
      const double rs = 1.0 / std::sqrt(v / static_cast<double>(cols) + eps);
      mean.data[r] = static_cast<float>(mu);
      rstd.data[r] = static_cast<float>(rs);
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) o[j] = static_cast<float>((xr[j] - mu) * rs * gamma.data[j] + beta.data[j]);
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
  parallelIf(parallel, [&] {
    double* pg = partG.data() + static_cast<size_t>(omp_get_thread_num()) * cols;
    double* pb = partB.data() + static_cast<size_t>(omp_get_thread_num()) * cols;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      const float* xr = x.data + r * cols;
      const float* g = dy.data + r * cols;
      float* o = dx.data + r * cols;
      const double mu = mean.data[r];
      const double rs = rstd.data[r];
      double sumG = 0.0;
      double sumGX = 0.0;
#pragma omp simd reduction(+ : sumG, sumGX)
      for (int64_t j = 0; j < cols; j++) {
        const double xhat = (xr[j] - mu) * rs;
        const double gj = static_cast<double>(g[j]) * gamma.data[j];
        sumG += gj;
        sumGX += gj * xhat;
        pg[j] += g[j] * xhat;
        pb[j] += g[j];
      }
      sumG /= static_cast<double>(cols);
      sumGX /= static_cast<double>(cols);
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) {
        const double xhat = (xr[j] - mu) * rs;
        o[j] = static_cast<float>(rs * (static_cast<double>(g[j]) * gamma.data[j] - sumG - xhat * sumGX));
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
