// A branch-free exp(double) that compilers vectorise inside `#pragma omp simd` loops (libm's exp is an opaque
// call that blocks vectorisation). Relative error below 1e-12 for finite results; exp(x) for x < -708 is
// returned as 0 (below the smallest normal double, and far below anything a float can hold).
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

}  // namespace
}  // namespace aiayn
