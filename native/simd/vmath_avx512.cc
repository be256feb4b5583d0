// The AVX-512 variant of the vectorised loops (compiled with -mavx512f -mavx512dq -mavx512vl; used only when the
// CPU has them).
#if defined(__x86_64__)  // other architectures build this file empty (and never select it)
#define VMATH_TABLE kVMathAvx512
#define VMATH_NAME "avx512"
#include "simd/table.h"
#endif
