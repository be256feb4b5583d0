// LayerNorm over the last dimension (biased variance) and its backward, which accumulates (+=) into dgamma and
// dbeta. Row statistics in float vector lanes per chunk, the chunks added in double; parameter gradients summed
// in float over kSumBlock rows, then per thread in double, the threads added in a fixed order.
#include <algorithm>
#include <vector>

#include "kernels/nn.h"
#include "kernels/parallel.h"
#include "simd/vmath.h"

namespace aiayn {

void layerNorm(const LayerNormArgs& g) {
  const int64_t rows = g.rows;
  const int64_t cols = g.cols;
  const bool residual = g.y != nullptr;
  const LayerNormRows a{residual ? g.sum : g.x, g.gamma, g.beta, cols, g.eps, g.out, g.mean, g.rstd, nullptr, nullptr};
  const VMath& vm = vmath();
  parallelIf(rows * cols >= kParallelGrain && rows > 1, [&] {
    int64_t r0, r1;
    teamRange(rows, &r0, &r1);
    if (!residual) return vm.layerNormRows(a, r0, r1);
    for (int64_t r = r0; r < r1; r++) {  // each row summed, then normalised while still in L1
      const float* xr = g.x + r * cols;
      const float* yr = g.y + r * cols;
      float* sr = g.sum + r * cols;
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) sr[j] = xr[j] + yr[j];
      vm.layerNormRows(a, r, r + 1);
    }
  });
}

void layerNormBackward(const LayerNormBackwardArgs& g) {
  const int64_t rows = g.rows;
  const int64_t cols = g.cols;
  const bool parallel = rows * cols >= kParallelGrain && rows > 1;
  const int slots = parallel ? omp_get_max_threads() : 1;
  std::vector<double> partG(static_cast<size_t>(slots) * cols, 0.0);
  std::vector<double> partB(static_cast<size_t>(slots) * cols, 0.0);
  const LayerNormRows a{g.x, g.gamma, nullptr, cols, 0.0, nullptr, g.mean, g.rstd, g.dy, g.dx};
  const VMath& vm = vmath();
  parallelIf(parallel, [&] {
    const size_t slot = static_cast<size_t>(omp_get_thread_num());
    int64_t r0, r1;
    teamRange(rows, &r0, &r1);
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
    g.dgamma[j] = static_cast<float>(g.dgamma[j] + sg);
    g.dbeta[j] = static_cast<float>(g.dbeta[j] + sb);
  }
}

}  // namespace aiayn
