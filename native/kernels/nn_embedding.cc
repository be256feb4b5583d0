// Embedding gather and scatter-add, parallel over columns so repeated ids never race and the summation order
// matches the TypeScript oracle.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "kernels/nn.h"
#include "kernels/parallel.h"

namespace aiayn {

void embedding(const EmbeddingArgs& g) {
  const int64_t dim = g.rows.dim;
  const int64_t count = g.rows.count;
  const int32_t* ids = g.rows.ids;
  if (dim == 0) return;
  parallelIf(count * dim >= kParallelGrain && count > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < count; i++) {
      std::memcpy(g.out + i * dim, g.weight + static_cast<int64_t>(ids[i]) * dim, sizeof(float) * dim);
    }
  });
}

void embeddingBackward(const EmbeddingBackwardArgs& g) {
  const int64_t dim = g.rows.dim;
  const int64_t count = g.rows.count;
  const int32_t* ids = g.rows.ids;
  float* dw = g.dweight;
  const int64_t length = g.dweightLength;
  if (dim == 0) {
    if (g.fresh) std::fill(dw, dw + length, 0.0f);
    return;
  }
  parallelIf((count * dim >= kParallelGrain && dim >= 64) || (g.fresh && length >= kParallelGrain), [&] {
    if (g.fresh) {  // each thread zeroes a contiguous share, then all scatter
      int64_t z0, z1;
      teamRange(length, &z0, &z1);
      std::fill(dw + z0, dw + z1, 0.0f);
#pragma omp barrier
    }
    int64_t j0, j1;
    teamRange(dim, &j0, &j1);
    for (int64_t i = 0; i < count; i++) {
      float* w = dw + static_cast<int64_t>(ids[i]) * dim;
      const float* d = g.dy + i * dim;
#pragma omp simd
      for (int64_t j = j0; j < j1; j++) w[j] += d[j];
    }
  });
}

}  // namespace aiayn
