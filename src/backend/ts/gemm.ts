// GEMM of the TypeScript backend: a plain i-p-j loop (j innermost, so B rows stream) with float32 storage.
// It is the reference for the native oneDNN GEMM, not the fast path.

import type { GemmArgs } from '../host/kernels.js';

/** out[b] = alpha * op(A[b]) op(B[b]) + beta * out[b] (+ bias row), row-major, see GemmArgs. */
export function gemm(g: GemmArgs): void {
  const { m, n, k, a, b, out } = g;
  const bias = g.bias ?? null;
  const biasOffset = g.biasOffset ?? 0;
  if (bias !== null && g.beta !== 0) throw new Error('gemm: a bias needs beta = 0');
  if (bias !== null && bias.length < biasOffset + n) throw new Error(`gemm: bias has ${bias.length} values, needs ${biasOffset + n}`);
  const row = new Float64Array(n);
  const inner = g.batchInner ?? g.batch;
  if (g.batch > 0 && (!(inner >= 1) || g.batch % inner !== 0)) throw new Error('gemm: batchInner must divide batch');
  for (let bi = 0; bi < g.batch; bi++) {
    const outer = Math.floor(bi / inner);
    const aBase = g.aOffset + outer * (g.strideAOuter ?? 0) + (bi % inner) * g.strideA;
    const bBase = g.bOffset + outer * (g.strideBOuter ?? 0) + (bi % inner) * g.strideB;
    const oBase = outer * (g.strideCOuter ?? inner * m * n) + (bi % inner) * (g.strideC ?? m * n);
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const av = g.transA ? a[aBase + p * g.lda + i]! : a[aBase + i * g.lda + p]!;
        if (g.transB) {
          for (let j = 0, q = bBase + p; j < n; j++, q += g.ldb) row[j]! += av * b[q]!;
        } else {
          const q0 = bBase + p * g.ldb;
          for (let j = 0; j < n; j++) row[j]! += av * b[q0 + j]!;
        }
      }
      const o = oBase + i * (g.ldc ?? n);
      for (let j = 0; j < n; j++) {
        out[o + j] = g.alpha * row[j]! + (g.beta === 0 ? 0 : g.beta * out[o + j]!) + (bias === null ? 0 : bias[biasOffset + j]!);
      }
    }
  }
}
