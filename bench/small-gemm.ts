// GEMMs of a few rows times a transposed weight (x W^T while decoding), through the addon's gemm (which picks
// the smallGemmNT kernel or dnnl_sgemm, see native/gemm.cc) against dnnl_sgemm called directly, in one process.
// Usage: node --import tsx bench/small-gemm.ts   (threads: AIAYN_THREADS); prints best-of times and GFLOP/s.

import { loadNativeAddon } from '../src/backend/native/index.js';

const addon = loadNativeAddon();

/** Best seconds per call over batches of 10 calls lasting at least 0.2 s in all. */
function bestSeconds(fn: () => void): number {
  fn();
  let best = Infinity;
  let spent = 0;
  while (spent < 0.2) {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < 10; r++) fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, dt / 10);
    spent += dt;
  }
  return best;
}

const shapes = [[1, 256, 256], [1, 1024, 256], [1, 256, 1024], [1, 8000, 256], [1, 2048, 512], [1, 16000, 512], [4, 1024, 256],
  [16, 256, 256], [16, 1024, 256], [16, 256, 1024], [16, 8000, 256], [32, 1024, 256], [32, 256, 1024], [32, 768, 256]] as const; // m x n x k
for (const [m, n, k] of shapes) {
  const a = Float32Array.from({ length: m * k }, () => Math.random() - 0.5);
  const w = Float32Array.from({ length: n * k }, () => Math.random() - 0.5); // [n, k], read transposed
  const c = new Float32Array(m * n);
  const ours = bestSeconds(() => addon.gemm({ batch: 1, m, n, k, transA: false, transB: true, a, aOffset: 0, lda: k, strideA: 0, b: w, bOffset: 0, ldb: k, strideB: 0, out: c, alpha: 1, beta: 0 }));
  const dnnl = bestSeconds(() => addon.directSgemm({ transA: false, transB: true, m, n, k, alpha: 1, a, lda: k, b: w, ldb: k, beta: 0, c, ldc: n }));
  const gflops = (s: number) => ((2 * m * n * k) / s / 1e9).toFixed(1);
  console.log(`${m}x${n}x${k}: gemm ${(ours * 1e6).toFixed(1)} us (${gflops(ours)} GFLOP/s), ` +
    `dnnl_sgemm ${(dnnl * 1e6).toFixed(1)} us (${gflops(dnnl)}), ${(dnnl / ours).toFixed(2)}x`);
}
