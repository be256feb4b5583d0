// OpenMP helpers shared by the kernels: the grain below which a kernel stays on one thread, parallelIf, and the
// column shares that smallGemmNT's callers hand each thread.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace aiayn {

/** Below this many elements of work a kernel stays single-threaded: OpenMP start-up would cost more. */
constexpr int64_t kParallelGrain = 1 << 15;

/** Rows whose column sums (bias, gamma and beta gradients) accumulate in float before joining double totals. */
constexpr int64_t kSumBlock = 32;

/**
 * Runs `region` as an OpenMP parallel region when `parallel`, else once on the calling thread, where
 * omp_get_thread_num() is 0, omp_get_num_threads() is 1 and an orphaned `omp for` runs every iteration. Unlike
 * `#pragma omp parallel if (false)`, which still enters libgomp (timings: BENCHMARKS.md, "Timings quoted by
 * native/"), the small case costs nothing.
 */
template <class Region>
inline void parallelIf(bool parallel, Region&& region) {
  if (parallel) {
#pragma omp parallel
    region();
  } else {
    region();
  }
}

/** Columns of out dealt to the threads by smallGemmNT's callers in whole chunks (a multiple of every variant's block). */
constexpr int64_t kColumnChunk = 16;

/**
 * The columns [first, last) of n that this thread of the current team takes, whole kColumnChunk chunks in one
 * contiguous run (all of them outside a parallel region), so smallGemmNT sees each thread's share in one call.
 */
inline void teamColumns(int64_t n, int64_t* first, int64_t* last) {
  const int64_t chunks = (n + kColumnChunk - 1) / kColumnChunk;
  const int64_t t = omp_get_thread_num();
  const int64_t threads = omp_get_num_threads();
  *first = std::min(n, chunks * t / threads * kColumnChunk);
  *last = std::min(n, chunks * (t + 1) / threads * kColumnChunk);
}

/** The share [*first, *last) of n items that this thread of the current team takes (all of them outside a region). */
inline void teamRange(int64_t n, int64_t* first, int64_t* last) {
  *first = n * omp_get_thread_num() / omp_get_num_threads();
  *last = n * (omp_get_thread_num() + 1) / omp_get_num_threads();
}

}  // namespace aiayn
