// Inverted dropout (Srivastava et al. 2014) with the mask drawn from a xoshiro128** state (Blackman & Vigna 2021)
// that the caller owns: one uniform per element in order, bit-identical to Rng.uniform() in src/tensor/random.ts,
// so the TypeScript and native backends give the same masks and leave the generator in the same state. The mask
// is kept as bits (1 = kept), 1/32 of the memory a float mask took, for the backward pass.
//
// The generator is sequential, yet the mask is drawn on all threads: xoshiro's state update is linear over
// GF(2), s' = T s for a 128 x 128 bit matrix T, so thread t starts from T^b s, b being the index of its first
// element, computed from the stored powers T^(2^i) in a few microseconds. Within a thread the same jumps give
// every vector lane its own stretch of the stream, so 16 generators (AVX-512) run side by side (timing:
// BENCHMARKS.md, "Measurements behind the native code"), with masks still identical to the serial draw.
#include <omp.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdint>
#include <mutex>

#include "kernels/nn.h"
#include "kernels/parallel.h"
#include "simd/vmath.h"
#include "simd/xoshiro.h"

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

/** Words of a bit mask over n elements (bit i & 31 of word i >> 5 = element i kept). */
int64_t maskWords(int64_t n) { return (n + 31) / 32; }

}  // namespace

void dropout(const DropoutArgs& g) {
  const double p = g.p;
  const float keep = static_cast<float>(1.0 / (1.0 - p));
  const bool relu = g.relu;
  // u = r / 2^32 < p  <=>  r < p * 2^32  <=>  r < ceil(p * 2^32) for an integer r: one exact integer compare.
  const uint64_t drop = static_cast<uint64_t>(std::ceil(p * 4294967296.0));
  const State start{g.state[0], g.state[1], g.state[2], g.state[3]};
  const int64_t n = g.n;
  const VMath& vm = vmath();
  // Each thread draws a contiguous range of whole mask words from the state jumped to the range's first element
  // (state in registers), 32 draws per word.
  parallelIf(n >= kParallelGrain, [&] {
    const int64_t words = maskWords(n);
    int64_t w0, w1;
    teamRange(words, &w0, &w1);
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
      vm.drawKeepWords(states, int64_t(1) << b, static_cast<uint32_t>(drop), g.keepBits + w, int64_t(1) << b);
      w += static_cast<int64_t>(lanes) << b;
    }
    uint32_t s[4] = {cur[0], cur[1], cur[2], cur[3]};
    for (; w < whole; w++) {
      uint32_t bits = 0;
      for (int j = 0; j < 32; j++) bits |= static_cast<uint32_t>(xoshiro128Next(s) >= drop) << j;
      g.keepBits[w] = static_cast<int32_t>(bits);
    }
    if (whole > w0) vm.dropoutGradWords(g.x, g.keepBits, keep, w0, whole, relu, g.out);
    for (int64_t w = std::max(w0, whole); w < w1; w++) {  // the last, partial word
      const int64_t i0 = w * 32;
      const int64_t count = n - i0;
      uint32_t bits = 0;
      for (int64_t j = 0; j < count; j++) {
        const bool kept = xoshiro128Next(s) >= drop;
        bits |= static_cast<uint32_t>(relu ? kept && g.x[i0 + j] > 0.0f : kept) << j;
      }
      g.keepBits[w] = static_cast<int32_t>(bits);
      for (int64_t j = 0; j < count; j++) {
        const float v = g.x[i0 + j];
        g.out[i0 + j] = relu ? ((bits >> j) & 1u ? v * keep : 0.0f) : v * ((bits >> j) & 1u ? keep : 0.0f);
      }
    }
    if (w1 == words && omp_get_thread_num() == omp_get_num_threads() - 1) {  // ends where a serial draw would
      for (int k = 0; k < 4; k++) g.state[k] = s[k];
    }
  });
}

void dropoutBackward(const DropoutBackwardArgs& g) {
  const float keep = static_cast<float>(1.0 / (1.0 - g.p));
  const int64_t n = g.n;
  const int64_t whole = n / 32;  // full words on the vector loop, the last partial one here
  const VMath& vm = vmath();
  parallelIf(n >= kParallelGrain, [&] {
    int64_t w0, w1;
    teamRange(whole, &w0, &w1);
    vm.dropoutGradWords(g.dy, g.keepBits, keep, w0, w1, false, g.dx);
  });
  const uint32_t bits = n % 32 == 0 ? 0u : static_cast<uint32_t>(g.keepBits[whole]);
  for (int64_t i = whole * 32; i < n; i++) g.dx[i] = g.dy[i] * ((bits >> (i - whole * 32)) & 1u ? keep : 0.0f);
}

}  // namespace aiayn
