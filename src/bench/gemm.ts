// GEMM throughput: Tensor-level matmul on each backend, beside oneDNN's dnnl_sgemm called directly in the
// same process, so the cost of the tensor layer shows as the ratio of the two (target >= 95%).

import { getBackend, setBackend, availableBackends } from '../backend/index.js';
import { loadNativeAddon, type NativeAddon } from '../backend/native/index.js';
import { tensor } from '../tensor/ops/create.js';
import { matmul } from '../tensor/ops/matmul.js';
import { tidy } from '../tensor/memory.js';

/** A GEMM problem out = A[m,k] B[k,n]. */
export interface GemmShape { m: number; n: number; k: number }

/** The shapes of the foundation issue: square, FFN-like, attention-projection-like and the vocabulary projection. */
export const GEMM_SHAPES: GemmShape[] = [
  { m: 1024, n: 1024, k: 1024 },
  { m: 4096, n: 512, k: 2048 },
  { m: 1536, n: 512, k: 128 },
  { m: 1536, n: 8000, k: 128 },
];

/** One result row, as `--json` prints it. */
export interface GemmResult { backend: string; shape: string; threads: number; gflops: number | null; direct_gflops: number | null; }

/** The ts backend only runs shapes up to this many flops (it is the oracle, not the fast path). */
const TS_MAX_FLOP = 2.5e9;
const MIN_SECONDS = 0.3;
/** Alternating rounds of the tensor and direct measurements. */
const ROUNDS = 3;

const flop = (s: GemmShape): number => 2 * s.m * s.n * s.k;

/** Best GFLOP/s of fn over repetitions lasting at least MIN_SECONDS after a warm-up (once when quick). */
function measure(fn: () => void, s: GemmShape, quick: boolean): number {
  let best = Infinity;
  let spent = 0;
  if (!quick) fn();
  do {
    const t0 = process.hrtime.bigint();
    fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, dt);
    spent += dt;
  } while (!quick && spent < MIN_SECONDS);
  return Math.round((flop(s) / best / 1e8)) / 10;
}

/** Runs the GEMM benchmark on every available backend. */
export function benchGemm(shapes: readonly GemmShape[] = GEMM_SHAPES): GemmResult[] {
  let addon: NativeAddon | undefined;
  try { addon = loadNativeAddon(); } catch { addon = undefined; }
  const previous = getBackend().name;
  const rows: GemmResult[] = [];
  for (const s of shapes) {
    const aHost = Float32Array.from({ length: s.m * s.k }, () => Math.random() - 0.5);
    const bHost = Float32Array.from({ length: s.k * s.n }, () => Math.random() - 0.5);
    const a = tensor(aHost, [s.m, s.k]);
    const b = tensor(bHost, [s.k, s.n]);
    const out = new Float32Array(s.m * s.n);
    const directCall = addon === undefined ? undefined
      : () => addon!.directSgemm({ transA: false, transB: false, m: s.m, n: s.n, k: s.k, alpha: 1, a: aHost, lda: s.k, b: bHost, ldb: s.n, beta: 0, c: out, ldc: s.n });
    let direct: number | null = null;
    for (const name of availableBackends()) {
      const backend = setBackend(name);
      const skip = name === 'ts' && flop(s) > TS_MAX_FLOP;
      let gflops: number | null = null;
      // Alternate tensor and direct runs (best of each) so drift in clock speed or cache state hits both alike.
      for (let round = 0; round < (name === 'ts' ? 1 : ROUNDS); round++) {
        if (!skip) gflops = Math.max(gflops ?? 0, measure(() => tidy(() => { matmul(a, b); }), s, name === 'ts'));
        if (directCall !== undefined && name !== 'ts') direct = Math.max(direct ?? 0, measure(directCall, s, false));
      }
      rows.push({ backend: name, shape: `${s.m}x${s.n}x${s.k}`, threads: backend.threads(), gflops, direct_gflops: null });
    }
    for (const r of rows) if (r.shape === `${s.m}x${s.n}x${s.k}`) r.direct_gflops = direct;
    a.dispose();
    b.dispose();
  }
  setBackend(previous);
  return rows;
}

/** The results as an aligned text table. */
export function formatGemmTable(rows: readonly GemmResult[]): string {
  const header = ['backend', 'shape MxNxK', 'threads', 'Tensor matmul GFLOP/s', 'dnnl_sgemm direct GFLOP/s', 'ratio'];
  const table = rows.map((r) => [r.backend, r.shape, String(r.threads), r.gflops === null ? '-' : String(r.gflops),
    r.direct_gflops === null ? '-' : String(r.direct_gflops),
    r.gflops === null || r.direct_gflops === null ? '-' : `${((100 * r.gflops) / r.direct_gflops).toFixed(0)}%`]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  return [header, ...table].map((line) => line.map((v, i) => v.padEnd(widths[i]!)).join('  ')).join('\n');
}
