// `npm run bench:webgpu -- [--quick] [--json] [--json-out FILE] [--allow-software] [--only gemm,train,decode] [--peak-tflops X]`
// (project issue 17): what runs (adapter, driver, software or not, date, commit), then the sections of bench/webgpu/:
// fp32 GEMM TFLOP/s at 4096^3 and Transformer shapes beside the fp32 peak, training tokens/s of the base model at
// the paper's batch beside the paper's 8 P100s, and greedy decoding ms/sentence of the small model, each beside
// the native backend in this process. --quick shrinks every size (a smoke run). A software adapter (SwiftShader)
// is refused unless --quick or --allow-software: its numbers are CPU emulation, never GPU numbers.
// bench/webgpu-device.sh carries and runs this on a GPU machine.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { initBackend, type Backend } from '../src/backend/index.js';
import { loadNativeBackend } from '../src/backend/native/index.js';
import type { WebGPUBackend } from '../src/backend/webgpu/index.js';
import { decodeSection } from './webgpu/decode.js';
import { gemmSection } from './webgpu/gemm.js';
import { message, type Context, type Row, type Section } from './webgpu/section.js';
import { trainSection } from './webgpu/train.js';

/** The sections by --only name, in running order. */
const SECTIONS: Record<string, Section> = { gemm: gemmSection, train: trainSection, decode: decodeSection };

/** fp32 (non-tensor-core) peaks in TFLOP/s by adapter name: the vendor's datasheet. */
const PEAKS: [RegExp, number][] = [[/H200/i, 67], [/H100 (80GB )?HBM3|H100 SXM/i, 67]];

/** The value after `--name`, if given. */
function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}

/** The commit measured: AIAYN_COMMIT (set where the checkout has no .git), else git's, with -dirty for local edits. */
function commit(): string {
  if (process.env['AIAYN_COMMIT']) return process.env['AIAYN_COMMIT'];
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return git('rev-parse', '--short=12', 'HEAD') + (git('status', '--porcelain', '--untracked-files=no') === '' ? '' : '-dirty');
  } catch {
    return 'unknown';
  }
}

/** A plain-text table of rows. */
function table(rows: Row[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = Object.keys(rows[0]!);
  const cells = [cols, ...rows.map((r) => cols.map((c) => String(r[c] ?? '-')))];
  const widths = cols.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const only = (option('only') ?? Object.keys(SECTIONS).join(',')).split(',');
for (const name of only) if (!(name in SECTIONS)) throw new Error(`--only: unknown section '${name}' (${Object.keys(SECTIONS).join(', ')})`);
const gpu = (await initBackend('webgpu')) as WebGPUBackend;
const adapter = { ...gpu.adapter, features: undefined };
const name = `${adapter.device} ${adapter.description}`;
const peakTflops = option('peak-tflops') !== undefined ? Number(option('peak-tflops')) : PEAKS.find(([re]) => re.test(name))?.[1] ?? null;
const header = {
  date: new Date().toISOString(), commit: commit(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', adapter,
  fp32_peak_tflops: peakTflops, quick,
  note: adapter.software ? 'SOFTWARE adapter (CPU emulation): these are NOT GPU numbers' : quick ? 'quick sizes: a smoke run, not the full workload' : null,
};
if (adapter.software && !quick && !process.argv.includes('--allow-software')) {
  const why = `refusing the software adapter '${adapter.description}' for a full-size benchmark: pass --quick (reduced sizes) or --allow-software`;
  console.error(json ? JSON.stringify({ ...header, error: why }) : `bench:webgpu: ${why}`);
  gpu.dispose();
  process.exit(2);
}
let native: Backend | null = null;
let nativeError = '';
try {
  native = loadNativeBackend();
} catch (err) {
  nativeError = message(err);
}
const ctx: Context = { gpu, native, nativeError, quick, peakTflops };
const nativeInfo = native === null ? { error: nativeError } : { threads: native.threads() };
if (!json) {
  console.log(`date ${header.date}  commit ${header.commit}  node ${header.node}  cpu ${header.cpu}`);
  console.log(`adapter: ${adapter.device || '?'} | ${adapter.description} (vendor ${adapter.vendor}, architecture ${adapter.architecture}) software=${adapter.software}`);
  console.log(`fp32 peak: ${peakTflops === null ? 'unknown (pass --peak-tflops)' : `${peakTflops} TFLOP/s`}  native: ${native === null ? `unavailable (${nativeError})` : `${native.threads()} threads`}`);
  if (header.note !== null) console.log(`*** ${header.note} ***`);
}
const results: Record<string, Row[] | { error: string }> = {};
for (const key of only) {
  const section = SECTIONS[key]!;
  const t0 = performance.now();
  try {
    const rows = await section.run(ctx);
    results[key] = rows;
    if (!json) console.log(`\n${section.title} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n${table(rows)}`);
  } catch (err) {
    results[key] = { error: message(err) };
    if (!json) console.log(`\n${section.title}: FAILED: ${message(err)}`);
  }
}
const report = JSON.stringify({ ...header, native: nativeInfo, results });
if (option('json-out') !== undefined) writeFileSync(option('json-out')!, report + '\n');
if (json) console.log(report);
else if (header.note !== null) console.log(`\n*** ${header.note} ***`);
gpu.dispose();
