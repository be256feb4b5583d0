// The spinning barrier of the decoder step's parallel region (decoder_step.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace aiayn {

/**
 * The barrier of the step's region: arrivals counted, the last one advancing a generation the others spin on
 * (yielding the core after a while, so a thread the OS took away can come back). The decoder step meets about 40
 * a token, and libgomp's barrier costs several times this one (BENCHMARKS.md, "Measurements behind the native
 * code").
 */
class SpinBarrier {
 public:
  /** Returns once `threads` threads have called it (for this generation). */
  void wait(int64_t threads) {
    const uint32_t generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == threads - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.store(generation + 1, std::memory_order_release);
      return;
    }
    for (int64_t spins = 0; generation_.load(std::memory_order_acquire) == generation; spins++) {
      if (spins < kSpins) {
#if defined(__x86_64__)
        _mm_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  /** Pauses before a waiting thread starts yielding its core (a few hundred microseconds). */
  static constexpr int64_t kSpins = int64_t(1) << 14;
  alignas(64) std::atomic<int64_t> arrived_{0};
  alignas(64) std::atomic<uint32_t> generation_{0};
};

}  // namespace aiayn
