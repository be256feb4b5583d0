// Inverted dropout (Srivastava et al. 2014) with the mask drawn from a xoshiro128** state (Blackman & Vigna 2021)
// that the caller owns: one uniform per element in order, bit-identical to Rng.uniform() in src/tensor/random.ts,
// so the TypeScript and native backends give the same masks and leave the generator in the same state.
//
// The generator is sequential, yet the mask is drawn on all threads: xoshiro's state update is linear over
// GF(2), s' = T s for a 128 x 128 bit matrix T, so thread t starts from T^b s, b being the index of its first
// element, computed from the stored powers T^(2^i) in a few microseconds.
#include <omp.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <mutex>

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

/** A 128-bit state as four words, and a GF(2) matrix as its 128 columns (column j = image of state bit j). */
using State = std::array<uint32_t, 4>;
using BitMatrix = std::array<State, 128>;

/** M s: the XOR of the columns of M at the set bits of s. */
State applyMatrix(const BitMatrix& m, const State& s) {
  State r{0, 0, 0, 0};
  for (int j = 0; j < 128; j++) {
    if ((s[j >> 5] >> (j & 31)) & 1u) {
      for (int w = 0; w < 4; w++) r[w] ^= m[j][w];
    }
  }
  return r;
}

/** Powers T^(2^i) of the xoshiro128** transition, i < kJumpLevels (enough for any array a Float32Array holds). */
constexpr int kJumpLevels = 56;
std::array<BitMatrix, kJumpLevels> jumpTable;
std::once_flag jumpTableOnce;

void buildJumpTable() {
  for (int j = 0; j < 128; j++) {  // T e_j: one step of the generator from a unit state
    uint32_t s[4] = {0, 0, 0, 0};
    s[j >> 5] = 1u << (j & 31);
    xoshiro128Next(s);
    jumpTable[0][j] = {s[0], s[1], s[2], s[3]};
  }
  for (int i = 1; i < kJumpLevels; i++) {
    for (int j = 0; j < 128; j++) jumpTable[i][j] = applyMatrix(jumpTable[i - 1], jumpTable[i - 1][j]);
  }
}

/** The state n steps after s (n < 2^kJumpLevels). */
State jump(State s, uint64_t n) {
  std::call_once(jumpTableOnce, buildJumpTable);
  for (int i = 0; n != 0; i++, n >>= 1) {
    if (n & 1u) s = applyMatrix(jumpTable[i], s);
  }
  return s;
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
  const State start{state.data[0], state.data[1], state.data[2], state.data[3]};
  const int64_t n = x.length;
  // Each thread draws its contiguous range from the state jumped to the range's first element (state in
  // registers), then multiplies in a vector loop.
#pragma omp parallel if (n >= kParallelGrain)
  {
    const int64_t b = n * omp_get_thread_num() / omp_get_num_threads();
    const int64_t e = n * (omp_get_thread_num() + 1) / omp_get_num_threads();
    const State first = b == 0 ? start : jump(start, static_cast<uint64_t>(b));
    uint32_t s[4] = {first[0], first[1], first[2], first[3]};
    for (int64_t i = b; i < e; i++) mask.data[i] = xoshiro128Next(s) < drop ? 0.0f : keep;
#pragma omp simd
    for (int64_t i = b; i < e; i++) out.data[i] = x.data[i] * mask.data[i];
    if (e == n && omp_get_thread_num() == omp_get_num_threads() - 1) {  // the last range ends where a serial draw would
      for (int k = 0; k < 4; k++) state.data[k] = s[k];
    }
  }
  return env.Undefined();
}

}  // namespace

void initDropout(Napi::Env env, Napi::Object exports) {
  exports.Set("dropout", Napi::Function::New(env, Dropout, "dropout"));
}

}  // namespace aiayn
