// The packed register-blocked GEMM of small batched products (attention) and the tiled transpose.
// Included once per instruction set through simd/table.h (see vmath.h); internal linkage, so the variants never mix.
#pragma once

#include <cstdint>

#include "simd/vec.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

/** MR rows x NV vectors of c = a b (see VMath::packedGemm) from row i, column j: one b row, broadcast a's, FMAs. */
template <int MR, int NV>
void packedBlock(const PackedGemmArgs& g, int64_t i, int64_t j) {
  Vec acc[MR][NV] = {};
  const float* a = g.a + i * g.ai;
  const float* b = g.b + j;
  for (int64_t p = 0; p < g.k; p++) {
    Vec bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = loadVec(b + p * g.ldb + v * kLanes);
    for (int r = 0; r < MR; r++) {
      const Vec av = splat(a[r * g.ai + p * g.ap]);
      for (int v = 0; v < NV; v++) acc[r][v] = fmaVec(av, bv[v], acc[r][v]);
    }
  }
  float* c = g.c + i * g.ldc + j;
  for (int r = 0; r < MR; r++) {
    for (int v = 0; v < NV; v++) __builtin_memcpy(c + r * g.ldc + v * kLanes, &acc[r][v], sizeof(Vec));
  }
}

/** packedBlock over every column block of MR rows from row i. */
template <int MR>
void packedRows(const PackedGemmArgs& g, int64_t i) {
  int64_t j = 0;
  for (; j + 2 * kLanes <= g.n; j += 2 * kLanes) packedBlock<MR, 2>(g, i, j);
  for (; j + kLanes <= g.n; j += kLanes) packedBlock<MR, 1>(g, i, j);
}

/** Columns [j0, n) of c one at a time: what is left past the last whole vector. */
void packedTail(const PackedGemmArgs& g, int64_t j0) {
  for (int64_t i = 0; i < g.m; i++) {
    for (int64_t j = j0; j < g.n; j++) {
      float acc = 0.0f;
      for (int64_t p = 0; p < g.k; p++) acc += g.a[i * g.ai + p * g.ap] * g.b[p * g.ldb + j];
      g.c[i * g.ldc + j] = acc;
    }
  }
}

/** See VMath::packedGemm. */
void packedGemmLoop(const PackedGemmArgs& g) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 8 <= g.m; i += 8) packedRows<8>(g, i);  // 16 of the 32 zmm registers accumulate
#endif
  for (; i + 4 <= g.m; i += 4) packedRows<4>(g, i);
  switch (g.m - i) {
    case 3: packedRows<3>(g, i); break;
    case 2: packedRows<2>(g, i); break;
    case 1: packedRows<1>(g, i); break;
    default: break;
  }
  if (g.n % kLanes != 0) packedTail(g, g.n / kLanes * kLanes);
}

/** See VMath::transpose. */
void transposeLoop(const float* b, int64_t ldb, int64_t n, int64_t k, float* out, int64_t ldo) {
  constexpr int64_t kTile = 16;  // 16 x 16 tiles: reads and writes both stay within 16 cache lines
  for (int64_t p0 = 0; p0 < k; p0 += kTile) {
    const int64_t p1 = p0 + kTile < k ? p0 + kTile : k;
    for (int64_t j0 = 0; j0 < n; j0 += kTile) {
      const int64_t j1 = j0 + kTile < n ? j0 + kTile : n;
      for (int64_t p = p0; p < p1; p++) {
        float* row = out + p * ldo;
        for (int64_t j = j0; j < j1; j++) row[j] = b[j * ldb + p];
      }
    }
  }
}

}  // namespace
}  // namespace aiayn
