// Label-smoothed cross entropy per row (PyTorch's definition) and its backward, with an ignore index.
#include <cmath>
#include <limits>
#include <string>

#include "common.h"
#include "vmath.h"

namespace aiayn {
namespace {

/** Throws unless every target is in [0, vocab) or equals ignoreIndex. */
void checkTargets(Napi::Env env, const I32& targets, int64_t rows, int64_t vocab, int64_t ignoreIndex) {
  for (int64_t r = 0; r < rows; r++) {
    const int64_t t = targets.data[r];
    if (t != ignoreIndex && (t < 0 || t >= vocab)) {
      fail(env, "target " + std::to_string(t) + " of row " + std::to_string(r) + " is outside the vocabulary", true);
    }
  }
}

/** crossEntropy(logits, targets, rows, vocab, ignoreIndex, smoothing, losses, logSumExp) */
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 logits = argF32(info, 0, "logits");
  I32 targets = argI32(info, 1, "targets");
  const int64_t rows = argSize(info, 2, "rows");
  const int64_t vocab = argSize(info, 3, "vocab");
  const int64_t ignoreIndex = argInt(info, 4, "ignoreIndex");
  const double smoothing = argNumber(info, 5, "smoothing");
  F32 losses = argF32(info, 6, "losses");
  F32 lseOut = argF32(info, 7, "logSumExp");
  const int64_t total = product(env, {rows, vocab});
  needLength(env, logits.length, total, "logits");
  needLength(env, targets.length, rows, "targets");
  needLength(env, losses.length, rows, "losses");
  needLength(env, lseOut.length, rows, "logSumExp");
  checkTargets(env, targets, rows, vocab, ignoreIndex);
  const VMath& vm = vmath();
  parallelIf(total >= kParallelGrain && rows > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < rows; r++) {
      const float* l = logits.data + r * vocab;
      float mx = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)  // exact in any order; a NaN logit makes the loss NaN either way
      for (int64_t j = 0; j < vocab; j++) mx = l[j] > mx ? l[j] : mx;
      double sum;
      double all;
      vm.ceStats(l, vocab, mx, &sum, &all);
      const double lse = mx + std::log(sum);
      lseOut.data[r] = static_cast<float>(lse);
      const int64_t t = targets.data[r];
      if (t == ignoreIndex) {
        losses.data[r] = 0.0f;
        continue;
      }
      const double nll = lse - l[t];
      const double uniform = lse - all / static_cast<double>(vocab);
      losses.data[r] = static_cast<float>((1.0 - smoothing) * nll + smoothing * uniform);
    }
  });
  return env.Undefined();
}

/** crossEntropyBackward(logits, targets, logSumExp, rows, vocab, ignoreIndex, smoothing, scale, dlogits) */
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 logits = argF32(info, 0, "logits");
  I32 targets = argI32(info, 1, "targets");
  F32 lse = argF32(info, 2, "logSumExp");
  const int64_t rows = argSize(info, 3, "rows");
  const int64_t vocab = argSize(info, 4, "vocab");
  const int64_t ignoreIndex = argInt(info, 5, "ignoreIndex");
  const double smoothing = argNumber(info, 6, "smoothing");
  const double scale = argNumber(info, 7, "scale");
  F32 dlogits = argF32(info, 8, "dlogits");
  const int64_t total = product(env, {rows, vocab});
  needLength(env, logits.length, total, "logits");
  needLength(env, dlogits.length, total, "dlogits");
  needLength(env, targets.length, rows, "targets");
  needLength(env, lse.length, rows, "logSumExp");
  checkTargets(env, targets, rows, vocab, ignoreIndex);
  const double off = smoothing / static_cast<double>(vocab);
  const VMath& vm = vmath();
  parallelIf(total >= kParallelGrain && rows > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < rows; r++) {
      const float* l = logits.data + r * vocab;
      float* d = dlogits.data + r * vocab;
      const int64_t t = targets.data[r];
      if (t == ignoreIndex) {
        for (int64_t j = 0; j < vocab; j++) d[j] = 0.0f;
        continue;
      }
      const double s = lse.data[r];
      vm.ceGrad(l, vocab, s, scale, off, d);
      d[t] = static_cast<float>(d[t] - scale * (1.0 - smoothing));
    }
  });
  return env.Undefined();
}

}  // namespace

void initLoss(Napi::Env env, Napi::Object exports) {
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy, "crossEntropy"));
  exports.Set("crossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward, "crossEntropyBackward"));
}

}  // namespace aiayn
