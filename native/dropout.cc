// Inverted dropout (Srivastava et al. 2014) with the mask drawn from a xoshiro128** state (Blackman & Vigna 2021)
// that the caller owns: one uniform per element in order, bit-identical to Rng.uniform() in src/tensor/random.ts,
// so the TypeScript and native backends give the same masks and leave the generator in the same state. The mask
// is kept as bits (1 = kept), 1/32 of the memory a float mask took, for the backward pass.
//
// The generator is sequential, yet the mask is drawn on all threads: xoshiro's state update is linear over
// GF(2), s' = T s for a 128 x 128 bit matrix T, so thread t starts from T^b s, b being the index of its first
// element, computed from the stored powers T^(2^i) in a few microseconds. Within a thread the same jumps give
// every vector lane its own stretch of the stream, so 16 generators (AVX-512) run side by side: 0.73 -> 0.15 ns
// per element measured here on 2 threads, with masks still identical to the serial draw.
#include <omp.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdint>
#include <mutex>

#include "common.h"
#include "vmath.h"
#include "xoshiro.h"

namespace aiayn {
namespace {

/** Advances the state s[4] and returns its next 32 random bits (xoshiro128**). */
inline uint32_t xoshiro128Next(uint32_t* s) { return xoshiro128Step(s[0], s[1], s[2], s[3]); }

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

/** T^(2^i), the transition of 2^i steps. */
const BitMatrix& power(int i) {
  std::call_once(jumpTableOnce, buildJumpTable);
  return jumpTable[i];
}

/** The state n steps after s (n < 2^kJumpLevels). */
State jump(State s, uint64_t n) {
  std::call_once(jumpTableOnce, buildJumpTable);
  for (int i = 0; n != 0; i++, n >>= 1) {
    if (n & 1u) s = applyMatrix(jumpTable[i], s);
  }
  return s;
}

/** The float scale of kept elements, 1 / (1 - p), after checking p. */
float keepScale(Napi::Env env, double p) {
  if (!(p >= 0.0 && p < 1.0)) fail(env, "dropout p must be in [0, 1)", true);
  return static_cast<float>(1.0 / (1.0 - p));
}

/** Words of a bit mask over n elements (bit i & 31 of word i >> 5 = element i kept). */
int64_t maskWords(int64_t n) { return (n + 31) / 32; }

/** dropout(x, p, state, out, keepBits, relu) */
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  const double p = argNumber(info, 1, "p");
  U32 state = argU32(info, 2, "state");
  F32 out = argF32(info, 3, "out");
  I32 keepBits = argI32(info, 4, "keepBits");
  const bool relu = argBool(info, 5, "relu");
  const float keep = keepScale(env, p);
  needLength(env, state.length, 4, "state");
  needLength(env, out.length, x.length, "out");
  needLength(env, keepBits.length, maskWords(x.length), "keepBits");
  // u = r / 2^32 < p  <=>  r < p * 2^32  <=>  r < ceil(p * 2^32) for an integer r: one exact integer compare.
  const uint64_t drop = static_cast<uint64_t>(std::ceil(p * 4294967296.0));
  const State start{state.data[0], state.data[1], state.data[2], state.data[3]};
  const int64_t n = x.length;
  const VMath& vm = vmath();
  // Each thread draws a contiguous range of whole mask words from the state jumped to the range's first element
  // (state in registers), 32 draws per word.
  parallelIf(n >= kParallelGrain, [&] {
    const int64_t words = maskWords(n);
    const int64_t w0 = words * omp_get_thread_num() / omp_get_num_threads();
    const int64_t w1 = words * (omp_get_thread_num() + 1) / omp_get_num_threads();
    const State first = w0 == 0 ? start : jump(start, static_cast<uint64_t>(w0) * 32);
    const int64_t whole = std::min(w1, n / 32);  // words of 32 elements: the draws alone, then one vector pass
    // Rounds of keepLanes generators side by side, lane l drawing 2^b words from the state 32 * 2^b * l draws
    // on (one stored power of T apart), while they cover at least 4 words each; serial draws finish the range.
    const int lanes = vm.keepLanes;
    int64_t w = w0;
    State cur = first;
    for (int64_t rest = whole - w; drop <= UINT32_MAX && rest >= 4 * lanes; rest = whole - w) {
      const int b = 63 - __builtin_clzll(static_cast<uint64_t>(rest / lanes));
      uint32_t states[4 * 16];
      for (int l = 0; l < lanes; l++) {
        for (int k = 0; k < 4; k++) states[k * lanes + l] = cur[k];
        cur = applyMatrix(power(b + 5), cur);  // 32 * 2^b draws on: the next lane's start
      }
      vm.drawKeepWords(states, int64_t(1) << b, static_cast<uint32_t>(drop), keepBits.data + w, int64_t(1) << b);
      w += static_cast<int64_t>(lanes) << b;
    }
    uint32_t s[4] = {cur[0], cur[1], cur[2], cur[3]};
    for (; w < whole; w++) {
      uint32_t bits = 0;
      for (int j = 0; j < 32; j++) bits |= static_cast<uint32_t>(xoshiro128Next(s) >= drop) << j;
      keepBits.data[w] = static_cast<int32_t>(bits);
    }
    if (whole > w0) vm.dropoutGradWords(x.data, keepBits.data, keep, w0, whole, relu, out.data);
    for (int64_t w = std::max(w0, whole); w < w1; w++) {  // the last, partial word
      const int64_t i0 = w * 32;
      const int64_t count = n - i0;
      uint32_t bits = 0;
      for (int64_t j = 0; j < count; j++) {
        const bool kept = xoshiro128Next(s) >= drop;
        bits |= static_cast<uint32_t>(relu ? kept && x.data[i0 + j] > 0.0f : kept) << j;
      }
      keepBits.data[w] = static_cast<int32_t>(bits);
      for (int64_t j = 0; j < count; j++) {
        const float v = x.data[i0 + j];
        out.data[i0 + j] = relu ? ((bits >> j) & 1u ? v * keep : 0.0f) : v * ((bits >> j) & 1u ? keep : 0.0f);
      }
    }
    if (w1 == words && omp_get_thread_num() == omp_get_num_threads() - 1) {  // ends where a serial draw would
      for (int k = 0; k < 4; k++) state.data[k] = s[k];
    }
  });
  return env.Undefined();
}

/** dropoutBackward(dy, keepBits, p, dx): dx = dy * (kept ? 1 / (1 - p) : 0). */
Napi::Value DropoutBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 dy = argF32(info, 0, "dy");
  I32 keepBits = argI32(info, 1, "keepBits");
  const float keep = keepScale(env, argNumber(info, 2, "p"));
  F32 dx = argF32(info, 3, "dx");
  const int64_t n = dy.length;
  needLength(env, dx.length, n, "dx");
  needLength(env, keepBits.length, maskWords(n), "keepBits");
  const int64_t whole = n / 32;  // full words on the vector loop, the last partial one here
  const VMath& vm = vmath();
  parallelIf(n >= kParallelGrain, [&] {
    const int64_t w0 = whole * omp_get_thread_num() / omp_get_num_threads();
    const int64_t w1 = whole * (omp_get_thread_num() + 1) / omp_get_num_threads();
    vm.dropoutGradWords(dy.data, keepBits.data, keep, w0, w1, false, dx.data);
  });
  const uint32_t bits = n % 32 == 0 ? 0u : static_cast<uint32_t>(keepBits.data[whole]);
  for (int64_t i = whole * 32; i < n; i++) dx.data[i] = dy.data[i] * ((bits >> (i - whole * 32)) & 1u ? keep : 0.0f);
  return env.Undefined();
}

}  // namespace

void initDropout(Napi::Env env, Napi::Object exports) {
  exports.Set("dropout", Napi::Function::New(env, Dropout, "dropout"));
  exports.Set("dropoutBackward", Napi::Function::New(env, DropoutBackward, "dropoutBackward"));
}

}  // namespace aiayn
