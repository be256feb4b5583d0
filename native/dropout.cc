// Inverted dropout (Srivastava et al. 2014) with the mask drawn from a xoshiro128** state (Blackman & Vigna 2021)
// that the caller owns: one uniform per element in order, bit-identical to Rng.uniform() in src/tensor/random.ts,
// so the TypeScript and native backends give the same masks and leave the generator in the same state.
#include <cmath>
#include <cstdint>

#include "common.h"

namespace aiayn {
namespace {

/** Rotates x left by k bits. */
inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

/** Advances the state s[4] and returns its next 32 random bits (xoshiro128**). */
inline uint32_t xoshiro128Next(uint32_t* s) {
  const uint32_t result = rotl(s[1] * 5u, 7) * 9u;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

/** dropout(x, p, state, out, mask) */
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  const double p = argNumber(info, 1, "p");
  U32 state = argU32(info, 2, "state");
  F32 out = argF32(info, 3, "out");
  F32 mask = argF32(info, 4, "mask");
  if (!(p >= 0.0 && p < 1.0)) fail(env, "dropout p must be in [0, 1)", true);
  needLength(env, state.length, 4, "state");
  needLength(env, out.length, x.length, "out");
  needLength(env, mask.length, x.length, "mask");
  // u = r / 2^32 < p  <=>  r < p * 2^32  <=>  r < ceil(p * 2^32) for an integer r: one exact integer compare.
  const uint64_t drop = static_cast<uint64_t>(std::ceil(p * 4294967296.0));
  const float keep = static_cast<float>(1.0 / (1.0 - p));
  // The generator is sequential, so the mask is drawn on one thread with the state in registers; the product
  // is a separate vector loop.
  uint32_t s[4] = {state.data[0], state.data[1], state.data[2], state.data[3]};
  for (int64_t i = 0; i < x.length; i++) mask.data[i] = xoshiro128Next(s) < drop ? 0.0f : keep;
#pragma omp simd
  for (int64_t i = 0; i < x.length; i++) out.data[i] = x.data[i] * mask.data[i];
  for (int k = 0; k < 4; k++) state.data[k] = s[k];
  return env.Undefined();
}

}  // namespace

void initDropout(Napi::Env env, Napi::Object exports) {
  exports.Set("dropout", Napi::Function::New(env, Dropout, "dropout"));
}

}  // namespace aiayn
