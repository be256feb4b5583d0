// Row softmax / log-softmax of scale * x + mask (mask strided, broadcast by stride 0) and its backward, on the
// per-ISA row loops (float exps, double sums).
#include <omp.h>

#include <algorithm>
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
  const int64_t outer = static_cast<int64_t>(rank) - 1;  // dims walked per row, to find each row's mask
  parallelIf(total >= kParallelGrain && rows > 1, [&] {
    const int64_t r0 = rows * omp_get_thread_num() / omp_get_num_threads();
    const int64_t r1 = rows * (omp_get_thread_num() + 1) / omp_get_num_threads();
    std::vector<int64_t> idx(static_cast<size_t>(std::max<int64_t>(outer, 0)));
    int64_t q = mask.offset;  // mask offset of row r0, then advanced like an odometer
    for (int64_t rest = r0, d = outer - 1; d >= 0; d--) {
      idx[d] = rest % shape[d];
      q += idx[d] * mask.strides[d];
      rest /= shape[d];
    }
    for (int64_t r = r0; r < r1; r++) {
      vm.softmaxRow(x.data + r * cols, hasMask ? mask.data + q : nullptr, colStride, cols, static_cast<float>(scale), log,
                    out.data + r * cols);
      for (int64_t d = outer - 1; d >= 0; d--) {
        q += mask.strides[d];
        if (++idx[d] < shape[d]) break;
        q -= idx[d] * mask.strides[d];
        idx[d] = 0;
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
    for (int64_t r = 0; r < rows; r++) vm.softmaxGradRow(y.data + r * cols, dy.data + r * cols, cols, scale, log, dx.data + r * cols);
  });
  return env.Undefined();
}

}  // namespace

void initSoftmax(Napi::Env env, Napi::Object exports) {
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward, "softmaxBackward"));
}

}  // namespace aiayn
