// The AVX2 + FMA variant of the vectorised loops (compiled with -mavx2 -mfma; used only when the CPU has both).
#if defined(__x86_64__)  // other architectures build this file empty (and never select it)
#define VMATH_TABLE kVMathAvx2
#define VMATH_NAME "avx2"
#include "simd/table.h"
#endif
