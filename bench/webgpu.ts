// `npm run bench:webgpu [-- --json] [--quick]`: the WebGPU backend's adapter (and whether it is a software one),
// then fp32 GEMM GFLOP/s at 4096^3 and at Transformer-base shapes (§3: d_model 512, d_ff 2048, a 32k vocabulary
// over 4096-token batches), beside the same GEMMs on the native backend in this process when its addon loads,
// reported as ratios. --quick (the default on a software adapter) divides every dimension by 4.
// Sections run in order and each adds its own rows; later sections (training tokens/s, decoding) go in SECTIONS.

import type { Backend, GemmArgs } from '../src/backend/backend.js';
import { loadNativeBackend } from '../src/backend/native/index.js';
import { createWebGPUBackend, type WebGPUBackend } from '../src/backend/webgpu/index.js';

/** What every section gets. */
interface Context { gpu: WebGPUBackend; native: Backend | null; nativeError: string; quick: boolean; }

/** One benchmark section: its title and the rows it measured (printed as a table, or as JSON). */
interface Section { title: string; run(ctx: Context): Promise<Record<string, string | number | null>[]> }

/** A GEMM of the benchmark: out[m, n] = A[m, k] op(B). */
interface Shape { name: string; m: number; n: number; k: number; transB: boolean }

const SHAPES: Shape[] = [
  { name: 'square', m: 4096, n: 4096, k: 4096, transB: false },
  { name: 'FFN up (x W1^T)', m: 4096, n: 2048, k: 512, transB: true },
  { name: 'FFN down (h W2^T)', m: 4096, n: 512, k: 2048, transB: true },
  { name: 'generator (x W^T)', m: 4096, n: 32000, k: 512, transB: true },
];

/** Seconds each measurement runs for at least (after one warm-up call, which also compiles). */
const MIN_SECONDS = 1;

/** The GEMM arguments of `s` over buffers allocated (and filled) on `b`. */
function gemmOn(b: Backend, s: Shape): GemmArgs {
  const fillRandom = (n: number) => {
    const buf = b.alloc(n, 'float32', false);
    const host = new Float32Array(n);
    for (let i = 0; i < n; i++) host[i] = Math.random() - 0.5;
    b.write({ buf, offset: 0 }, host);
    return buf;
  };
  return {
    batch: 1, m: s.m, n: s.n, k: s.k, transA: false, transB: s.transB, a: fillRandom(s.m * s.k), aOffset: 0, lda: s.k, strideA: 0,
    b: fillRandom(s.k * s.n), bOffset: 0, ldb: s.transB ? s.k : s.n, strideB: 0, out: b.alloc(s.m * s.n, 'float32', false), alpha: 1, beta: 0,
  };
}

/** Frees the buffers of gemmOn. */
function release(b: Backend, g: GemmArgs): void {
  for (const buf of [g.a, g.b, g.out]) b.free(buf, 'float32');
}

/** GFLOP/s of repeated calls of `run` (then `sync`) over at least MIN_SECONDS. */
async function gflops(s: Shape, run: () => void, sync: () => Promise<void>): Promise<number> {
  run();
  await sync();
  let calls = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    run();
    await sync();
    calls++;
    elapsed = (performance.now() - t0) / 1000;
  } while (elapsed < MIN_SECONDS);
  return (2 * s.m * s.n * s.k * calls) / elapsed / 1e9;
}

const gemmSection: Section = {
  title: 'fp32 GEMM',
  async run({ gpu, native, quick }) {
    const rows: Record<string, string | number | null>[] = [];
    for (const full of SHAPES) {
      const s = quick ? { ...full, m: full.m / 4, n: full.n / 4, k: full.k / 4 } : full;
      const g = gemmOn(gpu, s);
      const webgpu = await gflops(s, () => gpu.gemm(g), () => gpu.finish());
      release(gpu, g);
      let nat: number | null = null;
      if (native !== null) {
        const h = gemmOn(native, s);
        nat = await gflops(s, () => native.gemm(h), async () => {});
        release(native, h);
      }
      rows.push({ shape: `${s.name} ${s.m}x${s.n}x${s.k}`, webgpu_gflops: round(webgpu), native_gflops: nat === null ? null : round(nat),
        ratio: nat === null ? null : round(webgpu / nat) });
    }
    return rows;
  },
};

/** The sections, in order. */
const SECTIONS: Section[] = [gemmSection];

/** Three significant digits. */
function round(x: number): number {
  return Number(x.toPrecision(3));
}

/** A plain-text table of rows. */
function table(rows: Record<string, string | number | null>[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0]!);
  const cells = [cols, ...rows.map((r) => cols.map((c) => String(r[c] ?? '-')))];
  const widths = cols.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

const json = process.argv.includes('--json');
const gpu = await createWebGPUBackend();
const quick = process.argv.includes('--quick') || gpu.adapter.software;
let native: Backend | null = null;
let nativeError = '';
try {
  native = loadNativeBackend();
} catch (err) {
  nativeError = err instanceof Error ? err.message : String(err);
}
const ctx: Context = { gpu, native, nativeError, quick };
const adapter = { ...gpu.adapter, features: undefined };
const results: Record<string, unknown> = {};
if (!json) {
  console.log(`adapter: ${adapter.description || adapter.device} (vendor ${adapter.vendor}, architecture ${adapter.architecture})${adapter.software ? ' - SOFTWARE adapter: CPU emulation, not GPU numbers' : ''}`);
  console.log(`native: ${native === null ? `unavailable (${nativeError})` : `${native.threads()} threads`}${quick ? '; quick shapes (dimensions / 4)' : ''}`);
}
for (const section of SECTIONS) {
  const rows = await section.run(ctx);
  results[section.title] = rows;
  if (!json) console.log(`\n${section.title}\n${table(rows)}`);
}
if (json) console.log(JSON.stringify({ adapter, native: native === null ? { error: nativeError } : { threads: native.threads() }, quick, results }));
gpu.dispose();
