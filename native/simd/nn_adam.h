// The Adam / AdamW update loop.
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#include "simd/vmath.h"

namespace aiayn {
namespace {

/** See VMath::adam; mirrors the TypeScript adam exactly, including where values are rounded to float. */
void adamLoop(float* param, const float* grad, float* m, float* v, int64_t n, const AdamScalars& a) {
  const double lr = a.lr, b1 = a.beta1, b2 = a.beta2, eps = a.eps, wd = a.weightDecay, c1 = a.c1, c2 = a.c2;
  const bool l2 = a.l2, decay = a.decay;
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const float p0 = param[i];
    const double g = l2 ? grad[i] + wd * p0 : static_cast<double>(grad[i]);  // selects, not branches: vectorises
    const float p = decay ? static_cast<float>(p0 - lr * wd * p0) : p0;
    const double mi = b1 * m[i] + (1.0 - b1) * g;
    const double vi = b2 * v[i] + (1.0 - b2) * g * g;
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    param[i] = static_cast<float>(p - lr * (mi / c1) / (__builtin_sqrt(vi / c2) + eps));
  }
}

}  // namespace
}  // namespace aiayn
