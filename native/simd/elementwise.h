// Vectorised unary loops of the elementwise kernels (exp, sigmoid and GELU's tanh approximation on vexp).
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#include "simd/vexp.h"

namespace aiayn {
namespace {

/** See VMath::exp. */
void expLoop(const float* x, float* out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) out[i] = static_cast<float>(vexp(x[i]));
}

/** See VMath::sigmoid. */
void sigmoidLoop(const float* x, float* out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) out[i] = static_cast<float>(1.0 / (1.0 + vexp(-static_cast<double>(x[i]))));
}

constexpr double kGeluK = 0.79788456080286535588;  // sqrt(2 / pi)
constexpr double kGeluC = 0.044715;

/** See VMath::geluTanh: 0.5 x (1 + tanh(u)) as x / (1 + exp(-2u)), in double. */
void geluTanhLoop(const float* x, float* out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const double v = x[i];
    out[i] = static_cast<float>(v / (1.0 + vexp(-2.0 * kGeluK * (v + kGeluC * v * v * v))));
  }
}

/** See VMath::geluTanhGrad: with s = sigmoid(2u), 1 + tanh(u) = 2s and 1 - tanh(u)^2 = 4 s (1 - s). */
void geluTanhGradLoop(const float* x, const float* dy, float* dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const double v = x[i];
    const double s = 1.0 / (1.0 + vexp(-2.0 * kGeluK * (v + kGeluC * v * v * v)));
    dx[i] = static_cast<float>(dy[i] * (s + 2.0 * v * s * (1.0 - s) * kGeluK * (1.0 + 3.0 * kGeluC * v * v)));
  }
}

}  // namespace
}  // namespace aiayn
