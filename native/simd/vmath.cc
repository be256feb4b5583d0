// The baseline (x86-64 / any target) variant of the vectorised loops, and run-time selection among variants.
#include <cstring>

#define VMATH_TABLE kVMathBaseline
#define VMATH_NAME "baseline"
#include "simd/table.h"

namespace aiayn {
namespace {

/** Rank of a variant: 0 baseline, 1 AVX2, 2 AVX-512. */
int supported() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) return 2;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
  return 0;
}

#if defined(__x86_64__)
const VMath* const kVariants[] = {&kVMathBaseline, &kVMathAvx2, &kVMathAvx512};
#else
const VMath* const kVariants[] = {&kVMathBaseline, &kVMathBaseline, &kVMathBaseline};
#endif
const char* const kNames[] = {"baseline", "avx2", "avx512"};
const VMath* current = nullptr;

}  // namespace

const VMath& vmath() {
  if (current == nullptr) current = kVariants[supported()];
  return *current;
}

const char* setSimd(const char* name) {
  int want = -1;
  for (int i = 0; i < 3; i++) {
    if (std::strcmp(name, kNames[i]) == 0) want = i;
  }
  if (want < 0) return nullptr;
  const int best = supported();
  current = kVariants[want < best ? want : best];
  return current->name;
}

}  // namespace aiayn
