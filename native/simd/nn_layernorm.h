// LayerNorm rows, forward and backward, in float lanes with double chunk sums.
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#include "simd/vec.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

/** See VMath::layerNormRows: statistics in float lanes per chunk of a row, the chunks' sums added in double. */
void layerNormRowsLoop(const LayerNormRows& a, int64_t r0, int64_t r1) {
  const int64_t cols = a.cols;
  const float* gamma = a.gamma;
  const float* beta = a.beta;
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = a.x + r * cols;
    float* o = a.out + r * cols;
    // Σ (x - x0) with x0 the row's first value: float lanes within a chunk, double across chunks. Shifted so,
    // a row far from zero sums its small deviations, not values that float rounding would blur (mean 5, std 0.1).
    const float x0 = xr[0];
    double sum = 0.0;
    for (int64_t j0 = 0; j0 < cols; j0 += kFloatChunk) {
      const int64_t j1 = cols - j0 < kFloatChunk ? cols : j0 + kFloatChunk;
      float c = 0.0f;
#pragma omp simd reduction(+ : c)
      for (int64_t j = j0; j < j1; j++) c += xr[j] - x0;
      sum += c;
    }
    // The mean as a float and its remainder: x - hi is exact near the mean, so such rows also centre accurately
    // (rounding the mean alone would shift every x - mean by up to |mean| * 6e-8).
    const double mu = x0 + sum / static_cast<double>(cols);
    const float hi = static_cast<float>(mu);
    const float lo = static_cast<float>(mu - hi);
    double sq = 0.0;
    for (int64_t j0 = 0; j0 < cols; j0 += kFloatChunk) {
      const int64_t j1 = cols - j0 < kFloatChunk ? cols : j0 + kFloatChunk;
      float c = 0.0f;
#pragma omp simd reduction(+ : c)
      for (int64_t j = j0; j < j1; j++) {
        const float d = (xr[j] - hi) - lo;
        c += d * d;
      }
      sq += c;
    }
    const float rs = static_cast<float>(1.0 / __builtin_sqrt(sq / static_cast<double>(cols) + a.eps));
    a.mean[r] = hi;
    a.rstd[r] = rs;
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) o[j] = ((xr[j] - hi) - lo) * rs * gamma[j] + beta[j];
  }
}

/** See VMath::layerNormBackwardRows. */
void layerNormBackwardRowsLoop(const LayerNormRows& a, int64_t r0, int64_t r1, float* pg, float* pb) {
  const int64_t cols = a.cols;
  const float* gamma = a.gamma;
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = a.x + r * cols;
    const float* g = a.dy + r * cols;
    float* o = a.dx + r * cols;
    const float mu = a.mean[r];
    const float rs = a.rstd[r];
    double sumG = 0.0;
    double sumGX = 0.0;
    for (int64_t j0 = 0; j0 < cols; j0 += kFloatChunk) {  // float lanes within a chunk, double across chunks
      const int64_t j1 = cols - j0 < kFloatChunk ? cols : j0 + kFloatChunk;
      float cg = 0.0f;
      float cgx = 0.0f;
#pragma omp simd reduction(+ : cg, cgx)
      for (int64_t j = j0; j < j1; j++) {
        const float xhat = (xr[j] - mu) * rs;
        const float gj = g[j] * gamma[j];
        cg += gj;
        cgx += gj * xhat;
        pg[j] += g[j] * xhat;
        pb[j] += g[j];
      }
      sumG += cg;
      sumGX += cgx;
    }
    const float meanG = static_cast<float>(sumG / static_cast<double>(cols));
    const float meanGX = static_cast<float>(sumGX / static_cast<double>(cols));
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) o[j] = rs * (g[j] * gamma[j] - meanG - (xr[j] - mu) * rs * meanGX);
  }
}

}  // namespace
}  // namespace aiayn
