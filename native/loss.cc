// Label-smoothed cross entropy per row (PyTorch's definition), with an ignore index, and its gradient in the same pass.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <omp.h>

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
 * crossEntropy(logits, targets, rows, vocab, ignoreIndex, smoothing, losses, logSumExp [, scale, dlogits
 * [, bias [, columnSums]]]): the logits of row r are logits[r] + bias (bias null: none). With dlogits (which may be
 * logits itself), also the gradient scale * (softmax - ((1 - eps) * onehot + eps / V)) (0 for ignored rows), from
 * the exponentials the loss computes anyway while the row is in cache, and with columnSums its sum over the rows
 * (a bias gradient), per thread in double and added in a fixed order.
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
  const auto given = [&](size_t at) { return info.Length() > at && !info[at].IsUndefined() && !info[at].IsNull(); };
  const bool withGrad = given(8);
  const double scale = withGrad ? argNumber(info, 8, "scale") : 0.0;
  F32 dlogits = withGrad ? argF32(info, 9, "dlogits") : F32{nullptr, 0};
  const F32 bias = given(10) ? argF32(info, 10, "bias") : F32{nullptr, 0};
  const F32 columnSums = given(11) ? argF32(info, 11, "columnSums") : F32{nullptr, 0};
  const int64_t total = product(env, {rows, vocab});
  needLength(env, logits.length, total, "logits");
  needLength(env, targets.length, rows, "targets");
  needLength(env, losses.length, rows, "losses");
  needLength(env, lseOut.length, rows, "logSumExp");
  if (withGrad) needLength(env, dlogits.length, total, "dlogits");
  if (bias.data != nullptr) needLength(env, bias.length, vocab, "bias");
  if (columnSums.data != nullptr) {
    if (!withGrad) fail(env, "crossEntropy: columnSums needs dlogits", true);
    needLength(env, columnSums.length, vocab, "columnSums");
  }
  checkTargets(env, targets, rows, vocab, ignoreIndex);
  const double off = smoothing / static_cast<double>(vocab);
  const VMath& vm = vmath();
  const bool parallel = total >= kParallelGrain && rows > 1;
  const int slots = parallel ? omp_get_max_threads() : 1;
  std::vector<double> partial(columnSums.data != nullptr ? static_cast<size_t>(slots) * vocab : 0, 0.0);
  // A row is read from a copy when the bias joins it or the gradient overwrites it in place.
  const bool copyRow = bias.data != nullptr || (withGrad && dlogits.data == logits.data);
  parallelIf(parallel, [&] {
    thread_local std::vector<float> row;
    thread_local std::vector<float> block;  // column sums of up to kSumBlock rows in float, then added in double
    if (copyRow) row.resize(vocab);
    double* sums = partial.empty() ? nullptr : partial.data() + static_cast<size_t>(omp_get_thread_num()) * vocab;
    if (sums != nullptr) block.assign(vocab, 0.0f);
    int64_t blocked = 0;
    const auto flush = [&] {
      for (int64_t j = 0; j < vocab; j++) sums[j] += block[j];
      std::fill(block.begin(), block.end(), 0.0f);
      blocked = 0;
    };
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < rows; r++) {
      const float* l = logits.data + r * vocab;
      float* d = withGrad ? dlogits.data + r * vocab : nullptr;
      const int64_t t = targets.data[r];
      float mx;  // a NaN logit makes the loss NaN through the sum below
      if (copyRow) {
        mx = vm.biasRowMax(l, bias.data, vocab, row.data());
        l = row.data();
      } else {
        mx = vm.rowMax(l, vocab);
      }
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
        // The target's term joins the column sum before scaleShift adds the row, so block gets the final row.
        const float hit = static_cast<float>(scale * (1.0 - smoothing));
        if (sums != nullptr) block[t] -= hit;
        vm.scaleShift(d, vocab, static_cast<float>(scale / sum), static_cast<float>(scale * off), sums != nullptr ? block.data() : nullptr);
        d[t] -= hit;
        if (sums != nullptr && ++blocked == kSumBlock) flush();
      }
    }
    if (sums != nullptr && blocked > 0) flush();
  });
  if (columnSums.data != nullptr) {
    for (int64_t j = 0; j < vocab; j++) {
      double s = 0.0;
      for (int k = 0; k < slots; k++) s += partial[static_cast<size_t>(k) * vocab + j];
      columnSums.data[j] = static_cast<float>(s);
    }
  }
  return env.Undefined();
}

}  // namespace

void initLoss(Napi::Env env, Napi::Object exports) {
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy, "crossEntropy"));
}

}  // namespace aiayn
