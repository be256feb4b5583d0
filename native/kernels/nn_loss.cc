// Label-smoothed cross entropy per row (PyTorch's definition), with an ignore index, and its gradient in the
// same pass: from the exponentials the loss computes anyway while the row is in cache, and with columnSums its sum
// over the rows (a bias gradient), per thread in double and added in a fixed order.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/nn.h"
#include "kernels/parallel.h"
#include "simd/vmath.h"

namespace aiayn {

void crossEntropy(const CrossEntropyArgs& g) {
  const int64_t rows = g.rows;
  const int64_t vocab = g.vocab;
  const int64_t ignoreIndex = g.ignoreIndex;
  const double smoothing = g.smoothing;
  const double scale = g.scale;
  const bool withGrad = g.dlogits != nullptr;
  const int64_t total = rows * vocab;
  const double off = smoothing / static_cast<double>(vocab);
  const VMath& vm = vmath();
  const bool parallel = total >= kParallelGrain && rows > 1;
  const int slots = parallel ? omp_get_max_threads() : 1;
  std::vector<double> partial(g.columnSums != nullptr ? static_cast<size_t>(slots) * vocab : 0, 0.0);
  // A row is read from a copy when the bias joins it or the gradient overwrites it in place.
  const bool copyRow = g.bias != nullptr || (withGrad && g.dlogits == g.logits);
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
      const float* l = g.logits + r * vocab;
      float* d = withGrad ? g.dlogits + r * vocab : nullptr;
      const int64_t t = g.targets[r];
      float mx;  // a NaN logit makes the loss NaN through the sum below
      if (copyRow) {
        mx = vm.biasRowMax(l, g.bias, vocab, row.data());
        l = row.data();
      } else {
        mx = vm.rowMax(l, vocab);
      }
      double sum;
      double all;
      vm.ceStats(l, vocab, mx, &sum, &all, t != ignoreIndex ? d : nullptr);
      const double lse = mx + std::log(sum);
      g.logSumExp[r] = static_cast<float>(lse);
      if (t == ignoreIndex) {
        g.losses[r] = 0.0f;
        if (d != nullptr) std::fill(d, d + vocab, 0.0f);
        continue;
      }
      const double nll = lse - l[t];
      const double uniform = lse - all / static_cast<double>(vocab);
      g.losses[r] = static_cast<float>((1.0 - smoothing) * nll + smoothing * uniform);
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
  if (g.columnSums != nullptr) {
    for (int64_t j = 0; j < vocab; j++) {
      double s = 0.0;
      for (int k = 0; k < slots; k++) s += partial[static_cast<size_t>(k) * vocab + j];
      g.columnSums[j] = static_cast<float>(s);
    }
  }
}

}  // namespace aiayn
