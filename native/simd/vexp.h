// Branch-free exp(double) and exp(float) that compilers vectorise inside `#pragma omp simd` loops (libm's exp is
// an opaque call that blocks vectorisation). vexp: relative error below 1e-12 for finite results, exp(x) for
// x < -708 returned as 0. vexpf, for arguments <= 0 (exp(l - max) over a row): relative error below 2e-7, twice
// the lanes of vexp and a shorter polynomial, 0 below -87 (under the smallest normal float).
#pragma once

#include <cstdint>

namespace aiayn {
namespace {  // internal linkage: each instruction-set variant keeps its own copy

/** exp(x) by Cody-Waite reduction x = n ln2 + r and a degree-11 Taylor polynomial in r, |r| <= ln2 / 2. */
inline double vexp(double x) {
  constexpr double kLog2e = 1.4426950408889634074;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShift = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer in the low bits
  const double c = x < -708.0 ? -708.0 : (x > 709.78 ? 709.78 : x);
  const double t = c * kLog2e + kShift;
  const double n = t - kShift;
  const double r = (c - n * kLn2Hi) - n * kLn2Lo;
  double p = 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^(n-1) from n, which sits in the low mantissa bits of t.
  const uint64_t bits = (__builtin_bit_cast(uint64_t, t) + 1022) << 52;
  const double y = p * __builtin_bit_cast(double, bits) * 2.0;
  const double big = x > 709.78 ? __builtin_inf() : y;
  return x < -708.0 ? 0.0 : (x != x ? x : big);
}

/** exp(x) for x <= 0 by the same reduction in float and a degree-7 Taylor polynomial (r^8 / 8! < 6e-9). */
inline float vexpf(float x) {
  constexpr float kLog2e = 1.44269504f;
  constexpr float kLn2Hi = 0.693145752f;   // ln 2 to 16 bits, so n * kLn2Hi is exact for |n| < 2^8
  constexpr float kLn2Lo = 1.42860677e-6f;  // ln 2 - kLn2Hi
  constexpr float kShift = 12582912.0f;     // 1.5 * 2^23
  const float c = x < -87.0f ? -87.0f : x;
  const float t = c * kLog2e + kShift;
  const float n = t - kShift;
  const float r = (c - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const uint32_t bits = (__builtin_bit_cast(uint32_t, t) + 127u - 0x400000u) << 23;  // 2^n: n sits in t's low bits
  const float y = p * __builtin_bit_cast(float, bits);
  return x < -87.0f ? 0.0f : (x != x ? x : y);
}

}  // namespace
}  // namespace aiayn
