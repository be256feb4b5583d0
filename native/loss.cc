// Label-smoothed cross entropy per row (PyTorch's definition), with an ignore index, and its gradient in the same pass.
#include <algorithm>
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

/**
 * crossEntropy(logits, targets, rows, vocab, ignoreIndex, smoothing, losses, logSumExp [, scale, dlogits]); with
 * dlogits, also the gradient scale * (softmax - ((1 - eps) * onehot + eps / V)) (0 for ignored rows), from the
 * exponentials the loss computes anyway while the row is in cache.
 */
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
  const bool withGrad = info.Length() > 8 && !info[8].IsUndefined();
  const double scale = withGrad ? argNumber(info, 8, "scale") : 0.0;
  F32 dlogits = withGrad ? argF32(info, 9, "dlogits") : F32{nullptr, 0};
  const int64_t total = product(env, {rows, vocab});
  needLength(env, logits.length, total, "logits");
  needLength(env, targets.length, rows, "targets");
  needLength(env, losses.length, rows, "losses");
  needLength(env, lseOut.length, rows, "logSumExp");
  if (withGrad) needLength(env, dlogits.length, total, "dlogits");
  checkTargets(env, targets, rows, vocab, ignoreIndex);
  const double off = smoothing / static_cast<double>(vocab);
  const VMath& vm = vmath();
  parallelIf(total >= kParallelGrain && rows > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < rows; r++) {
      const float* l = logits.data + r * vocab;
      float* d = withGrad ? dlogits.data + r * vocab : nullptr;
      const int64_t t = targets.data[r];
      const float mx = vm.rowMax(l, vocab);  // a NaN logit makes the loss NaN through the sum below
      double sum;
      double all;
      vm.ceStats(l, vocab, mx, &sum, &all, t != ignoreIndex ? d : nullptr);
      const double lse = mx + std::log(sum);
      lseOut.data[r] = static_cast<float>(lse);
      if (t == ignoreIndex) {
        losses.data[r] = 0.0f;
        if (d != nullptr) std::fill(d, d + vocab, 0.0f);
        continue;
      }
      const double nll = lse - l[t];
      const double uniform = lse - all / static_cast<double>(vocab);
      losses.data[r] = static_cast<float>((1.0 - smoothing) * nll + smoothing * uniform);
      if (d != nullptr) {  // d holds exp(l - mx): softmax = d / sum
        vm.scaleShift(d, vocab, scale / sum, scale * off);
        d[t] = static_cast<float>(d[t] - scale * (1.0 - smoothing));
      }
    }
  });
  return env.Undefined();
}

}  // namespace

void initLoss(Napi::Env env, Napi::Object exports) {
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy, "crossEntropy"));
}

}  // namespace aiayn
