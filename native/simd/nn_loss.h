// The cross entropy's row loops: maxima, exp sums and the gradient's scale pass.
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#include "simd/vec.h"
#include "simd/vexp.h"

namespace aiayn {
namespace {

/** See VMath::ceStats. */
void ceStatsLoop(const float* l, int64_t n, double mx, double* sum, double* all, float* e) {
  double s = 0.0;
  double a = 0.0;
  const float m = static_cast<float>(mx);
  for (int64_t j0 = 0; j0 < n; j0 += kFloatChunk) {  // float lanes within a chunk, double across chunks
    const int64_t j1 = n - j0 < kFloatChunk ? n : j0 + kFloatChunk;
    float cs = 0.0f;
    float ca = 0.0f;
    if (e == nullptr) {
#pragma omp simd reduction(+ : cs, ca)
      for (int64_t j = j0; j < j1; j++) {
        cs += vexpf(l[j] - m);
        ca += l[j];
      }
    } else {
#pragma omp simd reduction(+ : cs, ca)
      for (int64_t j = j0; j < j1; j++) {
        e[j] = vexpf(l[j] - m);
        cs += e[j];
        ca += l[j];
      }
    }
    s += cs;
    a += ca;
  }
  *sum = s;
  *all = a;
}

/** See VMath::rowMax. */
float rowMaxLoop(const float* l, int64_t n) {
  float mx = -__builtin_inff();
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < n; j++) mx = l[j] > mx ? l[j] : mx;
  return mx;
}

/** See VMath::biasRowMax. */
float biasRowMaxLoop(const float* l, const float* bias, int64_t n, float* z) {
  float mx = -__builtin_inff();
  if (bias == nullptr) {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; j++) {
      z[j] = l[j];
      mx = z[j] > mx ? z[j] : mx;
    }
  } else {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; j++) {
      z[j] = l[j] + bias[j];
      mx = z[j] > mx ? z[j] : mx;
    }
  }
  return mx;
}

/** See VMath::scaleShift. */
void scaleShiftLoop(float* d, int64_t n, float a, float b, float* acc) {
  if (acc == nullptr) {
#pragma omp simd
    for (int64_t j = 0; j < n; j++) d[j] = a * d[j] - b;
    return;
  }
#pragma omp simd
  for (int64_t j = 0; j < n; j++) {
    d[j] = a * d[j] - b;
    acc[j] += d[j];
  }
}

}  // namespace
}  // namespace aiayn
