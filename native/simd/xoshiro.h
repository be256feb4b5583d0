// One step of xoshiro128** (Blackman & Vigna 2021), the generator behind dropout masks and Rng.uniform() in
// src/tensor/random.ts, for a scalar state or for vectors of independent states (GCC vector types, one
// generator per lane). Internal linkage, as in vexp.h: every instruction-set variant keeps its own copy.
#pragma once

#include <cstdint>

namespace aiayn {
namespace {

/** Advances the state (s0, s1, s2, s3) one step and returns its next 32 random bits; U is uint32_t or a vector of them. */
template <class U>
inline U xoshiro128Step(U& s0, U& s1, U& s2, U& s3) {
  const U m = s1 * 5u;
  const U r = (m << 7) | (m >> 25);
  const U result = r * 9u;
  const U t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = (s3 << 11) | (s3 >> 21);
  return result;
}

}  // namespace
}  // namespace aiayn
