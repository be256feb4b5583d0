// The float32 multiply-add peak of this CPU, per thread and in all: 12 independent FMA chains on the widest vectors
// (AVX-512 where the compiler targets it, else AVX2), with nothing but registers. The ceiling a GEMM can approach:
// BENCHMARKS.md compares dnnl_sgemm and the GPT-2 training step with it.
//   gcc -O2 -march=native -fopenmp bench/cpu-peak.c -o /tmp/cpu-peak && OMP_NUM_THREADS=2 /tmp/cpu-peak
#include <omp.h>
#include <stdio.h>

#if defined(__AVX512F__)
#define LANES 16
#else
#define LANES 8
#endif
typedef float vec __attribute__((vector_size(LANES * sizeof(float))));

/** Runs `iterations` rounds of 12 FMAs (LANES lanes each) and returns GFLOP/s; `sink` keeps the result alive. */
static double fmaRate(long iterations, float* sink) {
  const vec m = (vec){} + 0.9999999f, k = (vec){} + 1e-7f;  // every lane
  vec a0 = m, a1 = k, a2 = m, a3 = k, a4 = m, a5 = k, a6 = m, a7 = k, a8 = m, a9 = k, a10 = m, a11 = k;
  const double t0 = omp_get_wtime();
  for (long i = 0; i < iterations; i++) {
    a0 = a0 * m + k; a1 = a1 * m + k; a2 = a2 * m + k; a3 = a3 * m + k; a4 = a4 * m + k; a5 = a5 * m + k;
    a6 = a6 * m + k; a7 = a7 * m + k; a8 = a8 * m + k; a9 = a9 * m + k; a10 = a10 * m + k; a11 = a11 * m + k;
    __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5), "+x"(a6), "+x"(a7), "+x"(a8),
                     "+x"(a9), "+x"(a10), "+x"(a11));  // keeps the chains in registers, one FMA each
  }
  const double seconds = omp_get_wtime() - t0;
  const vec s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
  *sink = s[0];
  return iterations * 12.0 * LANES * 2 / seconds / 1e9;
}

int main(void) {
  const long iterations = 300000000L;
  double total = 0;
  float sink = 0;
#pragma omp parallel reduction(+ : total)
  {
    float mine;
#pragma omp barrier
    const double rate = fmaRate(iterations, &mine);
#pragma omp critical
    {
      printf("thread %d: %.1f GFLOP/s\n", omp_get_thread_num(), rate);
      sink += mine;
    }
    total += rate;
  }
  printf("all %d threads: %.1f GFLOP/s (float32 FMA, %d lanes; checksum %g)\n", omp_get_max_threads(), total, LANES, sink);
  return 0;
}
