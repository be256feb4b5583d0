// Branch-free exp(double) and exp(float) that compilers vectorise inside `#pragma omp simd` loops (libm's exp is
// an opaque call that blocks vectorisation). vexp: relative error below 1e-12 for finite results, exp(x) for
// x < -708 returned as 0. vexpf, for arguments <= 0 (exp(l - max) over a row): relative error below 2e-7, twice
// the lanes of vexp and a shorter polynomial, 0 below -87 (under the smallest normal float).
#pragma once

#include <cstddef>
#include <cstdint>

namespace aiayn {
namespace {  // internal linkage: each instruction-set variant keeps its own copy

/** c[0] r^(N-1) + c[1] r^(N-2) + ... + c[N-1] by Horner's rule (unrolled: N is a constant). */
template <class T, size_t N>
inline T horner(T r, const T (&c)[N]) {
  T p = c[0];
  for (size_t i = 1; i < N; i++) p = p * r + c[i];
  return p;
}

/**
 * r = x - n ln2 for n = round(x log2e) (Cody-Waite: ln2 = ln2Hi + ln2Lo); *t = x log2e + shift holds n in its low
 * mantissa bits (shift = 1.5 * 2^mantissa bits: adding it rounds to an integer there).
 */
template <class T>
inline T reduceLn2(T x, T log2e, T ln2Hi, T ln2Lo, T shift, T* t) {
  *t = x * log2e + shift;
  const T n = *t - shift;
  return (x - n * ln2Hi) - n * ln2Lo;
}

/** exp(x) by Cody-Waite reduction x = n ln2 + r and a degree-11 Taylor polynomial in r, |r| <= ln2 / 2. */
inline double vexp(double x) {
  constexpr double kLog2e = 1.4426950408889634074;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShift = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer in the low bits
  constexpr double kTaylor[] = {1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
                                1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
  const double c = x < -708.0 ? -708.0 : (x > 709.78 ? 709.78 : x);
  double t;
  const double p = horner(reduceLn2(c, kLog2e, kLn2Hi, kLn2Lo, kShift, &t), kTaylor);
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
  constexpr float kTaylor[] = {1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f};
  const float c = x < -87.0f ? -87.0f : x;
  float t;
  const float p = horner(reduceLn2(c, kLog2e, kLn2Hi, kLn2Lo, kShift, &t), kTaylor);
  const uint32_t bits = (__builtin_bit_cast(uint32_t, t) + 127u - 0x400000u) << 23;  // 2^n: n sits in t's low bits
  const float y = p * __builtin_bit_cast(float, bits);
  return x < -87.0f ? 0.0f : (x != x ? x : y);
}

}  // namespace
}  // namespace aiayn
