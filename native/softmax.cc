// Row softmax / log-softmax of scale * x + mask (mask strided, broadcast by stride 0) and its backward.
// Row statistics in double, as the TypeScript oracle computes them.
#include <cmath>
#include <limits>
#include <vector>

#include "common.h"
#include "vmath.h"

namespace aiayn {
namespace {

/** softmax(x, shape, scale, maskData | null, maskOffset, maskStrides, log, out) */
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  std::vector<int64_t> shape = argShape(info, 1, "shape");
  const double scale = argNumber(info, 2, "scale");
  const bool hasMask = info.Length() > 3 && !info[3].IsNull() && !info[3].IsUndefined();
  StridedArg mask{nullptr, 0, std::vector<int64_t>(shape.size(), 0)};
  if (hasMask) mask = argStrided(info, 3, shape, "mask");
  const bool log = argBool(info, 6, "log");
  F32 out = argF32(info, 7, "out");
  const int64_t total = shapeSize(env, shape);
  needLength(env, x.length, total, "x");
  needLength(env, out.length, total, "out");
  const size_t rank = shape.size();
  const int64_t cols = rank == 0 ? 1 : shape[rank - 1];
  if (cols == 0 || total == 0) return env.Undefined();
  const int64_t rows = total / cols;
  const int64_t colStride = hasMask && rank > 0 ? mask.strides[rank - 1] : 0;
  const VMath& vm = vmath();
  parallelIf(total >= kParallelGrain && rows > 1, [&] {
    std::vector<double> z(cols);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      int64_t q = mask.offset;
      for (int64_t rest = r, d = static_cast<int64_t>(rank) - 2; d >= 0; d--) {
        q += (rest % shape[d]) * mask.strides[d];
        rest /= shape[d];
      }
      const float* xr = x.data + r * cols;
      float* orow = out.data + r * cols;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < cols; j++, q += colStride) {
        const double v = scale * xr[j] + (hasMask ? mask.data[q] : 0.0f);
        z[j] = v;
        if (v > mx) mx = v;
      }
      if (mx == -std::numeric_limits<double>::infinity()) mx = 0.0;
      if (log) {
        const double lse = mx + std::log(vm.expSum(z.data(), cols, mx));
        for (int64_t j = 0; j < cols; j++) orow[j] = static_cast<float>(z[j] - lse);
      } else {
        const double sum = vm.expSumStore(z.data(), cols, mx);
        for (int64_t j = 0; j < cols; j++) orow[j] = static_cast<float>(z[j] / sum);
      }
    }
  });
  return env.Undefined();
}

/** softmaxBackward(y, dy, rows, cols, scale, log, dx) */
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 y = argF32(info, 0, "y");
  F32 dy = argF32(info, 1, "dy");
  const int64_t rows = argSize(info, 2, "rows");
  const int64_t cols = argSize(info, 3, "cols");
  const double scale = argNumber(info, 4, "scale");
  const bool log = argBool(info, 5, "log");
  F32 dx = argF32(info, 6, "dx");
  const int64_t total = product(env, {rows, cols});
  needLength(env, y.length, total, "y");
  needLength(env, dy.length, total, "dy");
  needLength(env, dx.length, total, "dx");
  const VMath& vm = vmath();
  parallelIf(total >= kParallelGrain && rows > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < rows; r++) {
      const float* yr = y.data + r * cols;
      const float* gr = dy.data + r * cols;
      float* out = dx.data + r * cols;
      double dot = 0.0;
      if (log) {
        for (int64_t j = 0; j < cols; j++) dot += gr[j];
        vm.logSoftmaxGrad(yr, gr, cols, dot, scale, out);
      } else {
        for (int64_t j = 0; j < cols; j++) dot += static_cast<double>(gr[j]) * yr[j];
        for (int64_t j = 0; j < cols; j++) out[j] = static_cast<float>(scale * (yr[j] * (gr[j] - dot)));
      }
    }
  });
  return env.Undefined();
}

}  // namespace

void initSoftmax(Napi::Env env, Napi::Object exports) {
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward, "softmaxBackward"));
}

}  // namespace aiayn
