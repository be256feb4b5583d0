// Softmax and log-softmax rows and their backward (float exps, double sums).
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#include "simd/vec.h"
#include "simd/vexp.h"

namespace aiayn {
namespace {

/**
 * Σ exp(z[j] - mx) (also stored into e unless it is null) as double totals of float sums over kFloatChunk elements:
 * loops of floats alone vectorise down to their last elements, which matters for rows of 24 or 32.
 */
double sumChunks(float* z, int64_t n, float mx, float* e) {
  double total = 0.0;
  for (int64_t j0 = 0; j0 < n; j0 += kFloatChunk) {
    const int64_t j1 = n - j0 < kFloatChunk ? n : j0 + kFloatChunk;
    float s = 0.0f;
    if (e == nullptr) {
#pragma omp simd reduction(+ : s)
      for (int64_t j = j0; j < j1; j++) s += vexpf(z[j] - mx);
    } else {
#pragma omp simd reduction(+ : s)
      for (int64_t j = j0; j < j1; j++) {
        e[j] = vexpf(z[j] - mx);
        s += e[j];
      }
    }
    total += s;
  }
  return total;
}

/** See VMath::softmaxRow. */
void softmaxRowLoop(const float* x, const float* mask, int64_t maskStride, int64_t n, float scale, bool log, float* out) {
  float mx = -__builtin_inff();
  if (mask == nullptr) {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; j++) {
      out[j] = scale * x[j];
      mx = out[j] > mx ? out[j] : mx;
    }
  } else if (maskStride == 1) {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; j++) {
      out[j] = scale * x[j] + mask[j];
      mx = out[j] > mx ? out[j] : mx;
    }
  } else {
    for (int64_t j = 0; j < n; j++) {
      out[j] = scale * x[j] + mask[j * maskStride];
      mx = out[j] > mx ? out[j] : mx;
    }
  }
  if (mx == -__builtin_inff()) mx = 0.0f;  // every entry masked: exp gives 0s, so the row sums to 0
  if (log) {
    const float lse = static_cast<float>(mx + __builtin_log(sumChunks(out, n, mx, nullptr)));
#pragma omp simd
    for (int64_t j = 0; j < n; j++) out[j] = out[j] - lse;
  } else {
    const float inv = static_cast<float>(1.0 / sumChunks(out, n, mx, out));
#pragma omp simd
    for (int64_t j = 0; j < n; j++) out[j] *= inv;
  }
}

/** See VMath::softmaxGradRow. */
void softmaxGradRowLoop(const float* y, const float* dy, int64_t n, double scale, bool log, float* dx) {
  double dot = 0.0;
  if (log) {
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < n; j++) dot += dy[j];
    const float s = static_cast<float>(scale);
    const float d = static_cast<float>(dot);
#pragma omp simd
    for (int64_t j = 0; j < n; j++) dx[j] = s * (dy[j] - vexpf(y[j]) * d);
  } else {
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < n; j++) dot += static_cast<double>(dy[j]) * y[j];
    const float s = static_cast<float>(scale);
    const float d = static_cast<float>(dot);
#pragma omp simd
    for (int64_t j = 0; j < n; j++) dx[j] = s * (y[j] * (dy[j] - d));
  }
}

}  // namespace
}  // namespace aiayn
