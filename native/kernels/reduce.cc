// Reductions (see reduce.h).
#include "kernels/reduce.h"

#include <cmath>
#include <limits>

#include "kernels/parallel.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

constexpr int64_t kBlock = 64;  // columns per task (VMath::sumColumns takes up to 64): a bias gradient (n = rows, inner = 256) still splits over threads

/** Maximum over j of x[o, j, i0:i0+len] into out[o, i0:i0+len] (sums take VMath::sumColumns). */
void maxBlock(const float* x, int64_t n, int64_t inner, int64_t len, float* out) {
  double acc[kBlock];
  for (int64_t i = 0; i < len; i++) acc[i] = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < n; j++) {
    const float* row = x + j * inner;
    for (int64_t i = 0; i < len; i++) {
      const double v = row[i];
      if (v > acc[i] || std::isnan(v)) acc[i] = v;
    }
  }
  for (int64_t i = 0; i < len; i++) out[i] = static_cast<float>(acc[i]);
}

/** Sums each contiguous row of x [outer, n] (the inner == 1 case) with a vectorised double accumulator. */
void sumRows(const float* x, int64_t outer, int64_t n, float* out) {
  parallelIf(outer * n >= kParallelGrain && outer > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t o = 0; o < outer; o++) {
      const float* row = x + o * n;
      double acc = 0.0;
#pragma omp simd reduction(+ : acc)
      for (int64_t j = 0; j < n; j++) acc += row[j];
      out[o] = static_cast<float>(acc);
    }
  });
}

/** Sum or max over n of x [outer, n, inner], threaded over (outer, inner block) pairs. */
template <bool SUM>
void reduceAll(const float* x, int64_t outer, int64_t n, int64_t inner, float* out) {
  if (SUM && inner == 1) return sumRows(x, outer, n, out);
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  const VMath& vm = vmath();
  parallelIf(outer * n * inner >= kParallelGrain && outer * blocks > 1, [&] {
#pragma omp for collapse(2) schedule(static) nowait
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t bl = 0; bl < blocks; bl++) {
        const int64_t i0 = bl * kBlock;
        const int64_t len = inner - i0 < kBlock ? inner - i0 : kBlock;
        if (SUM) vm.sumColumns(x + o * n * inner + i0, n, inner, len, out + o * inner + i0);
        else maxBlock(x + o * n * inner + i0, n, inner, len, out + o * inner + i0);
      }
    }
  });
}

}  // namespace

void reduce(const ReduceArgs& g) {
  if (g.op == kSum) reduceAll<true>(g.in.x, g.in.outer, g.in.n, g.in.inner, g.out);
  else reduceAll<false>(g.in.x, g.in.outer, g.in.n, g.in.inner, g.out);
}

void argmax(const ArgmaxArgs& g) {
  const float* xd = g.in.x;
  int32_t* od = g.out;
  const int64_t outer = g.in.outer, n = g.in.n, inner = g.in.inner;
  parallelIf(outer * n * inner >= kParallelGrain, [&] {
#pragma omp for collapse(2) schedule(static) nowait
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t i = 0; i < inner; i++) {
        const float* p = xd + o * n * inner + i;
        float best = -std::numeric_limits<float>::infinity();
        int32_t at = 0;
        for (int64_t j = 0; j < n; j++) {
          if (p[j * inner] > best) {
            best = p[j * inner];
            at = static_cast<int32_t>(j);
          }
        }
        od[o * inner + i] = at;
      }
    }
  });
}

}  // namespace aiayn
