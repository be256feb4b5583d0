// fp32 GEMM throughput at 4096^3 and at Transformer-base shapes (§3: d_model 512, d_ff 2048, a 32k vocabulary over
// 4096-token batches) on the WebGPU backend, beside the fp32 peak and the native backend. Each product is checked
// on sampled entries against float64 dot products, so a fast wrong kernel shows.

import type { Backend, GemmArgs } from '../../src/backend/index.js';
import { finish, round, type Context, type Row, type Section } from './section.js';

/** A GEMM of the benchmark: out[m, n] = A[m, k] op(B). */
interface Shape { name: string; m: number; n: number; k: number; transB: boolean }

const SHAPES: Shape[] = [
  { name: 'square', m: 4096, n: 4096, k: 4096, transB: false },
  { name: 'FFN up (x W1^T)', m: 4096, n: 2048, k: 512, transB: true },
  { name: 'FFN down (h W2^T)', m: 4096, n: 512, k: 2048, transB: true },
  { name: 'generator (x W^T)', m: 4096, n: 32000, k: 512, transB: true },
];

/** Dimensions are divided by this in quick mode. */
const QUICK_DIVISOR = 8;

/** Seconds each measurement runs for at least (after a warm-up call, which also compiles). */
const MIN_SECONDS = 1;

/** Calls per clock read are chosen to take about this long, so small products are not timed by their syncs. */
const BATCH_SECONDS = 0.1;

/** A GEMM's arguments over random buffers on `b`, and host copies of A and B. */
interface Operands { args: GemmArgs; a: Float32Array; b: Float32Array }

/** The GEMM arguments of `s` over buffers allocated (and filled) on `backend`. */
function operands(backend: Backend, s: Shape): Operands {
  const upload = (host: Float32Array) => {
    const buf = backend.alloc(host.length, 'float32', false);
    backend.write({ buf, offset: 0 }, host);
    return buf;
  };
  const a = Float32Array.from({ length: s.m * s.k }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: s.k * s.n }, () => Math.random() - 0.5);
  const args: GemmArgs = {
    batch: 1, m: s.m, n: s.n, k: s.k, transA: false, transB: s.transB, a: upload(a), aOffset: 0, lda: s.k, strideA: 0,
    b: upload(b), bOffset: 0, ldb: s.transB ? s.k : s.n, strideB: 0, out: backend.alloc(s.m * s.n, 'float32', false), alpha: 1, beta: 0,
  };
  return { args, a, b };
}

/** Largest |out - ref| / max|ref| over sampled rows and columns, ref in float64. */
async function sampledError(backend: Backend, s: Shape, o: Operands): Promise<number> {
  let worst = 0;
  for (let t = 0; t < 4; t++) {
    const r = Math.floor(Math.random() * s.m);
    const row = await backend.read({ buf: o.args.out, offset: r * s.n }, s.n, 'float32');
    const cols = Array.from({ length: 16 }, () => Math.floor(Math.random() * s.n));
    const refs = cols.map((c) => {
      let acc = 0;
      for (let i = 0; i < s.k; i++) acc += o.a[r * s.k + i]! * o.b[s.transB ? c * s.k + i : i * s.n + c]!;
      return acc;
    });
    const scale = Math.max(...refs.map(Math.abs), 1e-30);
    cols.forEach((c, i) => { worst = Math.max(worst, Math.abs(row[c]! - refs[i]!) / scale); });
  }
  return worst;
}

/** GFLOP/s of `s` on `backend` (calls in batches, finish() before each clock read) and the sampled error. */
async function measure(backend: Backend, s: Shape): Promise<{ gflops: number; err: number }> {
  const o = operands(backend, s);
  const call = () => backend.gemm(o.args);
  call();
  await finish(backend);
  let t0 = performance.now();
  call();
  await finish(backend);
  const per = Math.ceil(BATCH_SECONDS / Math.max((performance.now() - t0) / 1000, 1e-6));
  let calls = 0;
  let elapsed = 0;
  t0 = performance.now();
  do {
    for (let i = 0; i < per; i++) call();
    await finish(backend);
    calls += per;
    elapsed = (performance.now() - t0) / 1000;
  } while (elapsed < MIN_SECONDS);
  const err = await sampledError(backend, s, o);
  for (const buf of [o.args.a, o.args.b, o.args.out]) backend.free(buf, 'float32');
  return { gflops: (2 * s.m * s.n * s.k * calls) / elapsed / 1e9, err };
}

export const gemmSection: Section = {
  title: 'fp32 GEMM',
  async run({ gpu, native, quick, peakTflops }: Context): Promise<Row[]> {
    const rows: Row[] = [];
    for (const full of SHAPES) {
      const d = quick ? QUICK_DIVISOR : 1;
      const s = { ...full, m: full.m / d, n: full.n / d, k: full.k / d };
      const webgpu = await measure(gpu, s);
      const nat = native === null ? null : await measure(native, s);
      rows.push({
        shape: `${s.name} ${s.m}x${s.n}x${s.k}`, webgpu_tflops: round(webgpu.gflops / 1000),
        pct_of_peak: peakTflops === null ? null : round((100 * webgpu.gflops) / 1000 / peakTflops),
        webgpu_max_rel_err: Number(webgpu.err.toExponential(1)), native_tflops: nat === null ? null : round(nat.gflops / 1000),
        webgpu_over_native: nat === null ? null : round(webgpu.gflops / nat.gflops),
      });
    }
    return rows;
  },
};
