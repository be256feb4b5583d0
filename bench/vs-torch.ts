// Side-by-side benchmark of aiayn against PyTorch on the same Transformer (Vaswani et al. 2017, Figure 1):
// one training step (forward, label-smoothed loss §5.4, backward, Adam §5.3) and, with --decode, greedy
// decoding. Two long-lived workers (bench/ours-step.ts, bench/torch_step.py) time K steps on command; after a
// warm-up the harness alternates them round by round and reports the median. FLOP counting: bench/README.md.
//
// Usage: npm run bench:vs-torch [-- --config tiny|small|base[,..]] [--json] [--threads 2] [--steps K]
//        [--rounds R] [--warmup W] [--decode [--decoder kv|recompute]]
//        npm run bench:vs-torch -- --model gpt2 [--batch 8 --context 128] [--json] [--threads 2]   (GPT-2 124M: bench/gpt2.ts)

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSpec } from './ours-step.js';
import { eachFlag } from './flags.js';
import { benchGpt2 } from './gpt2.js';
import { allocatorEnv, median, SPECS, trainingFlops, Worker } from './workers.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
/** The Python with PyTorch (Debian's, not a pyenv shim); AIAYN_TORCH_PYTHON overrides it. */
const PYTHON = process.env['AIAYN_TORCH_PYTHON'] || '/usr/bin/python3';
const OPENBLAS_OPENMP = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

/** Default warm-up steps, steps per round and rounds per config (each round is about a second or more of work). */
const SCHEDULE: Record<string, { warmup: number; steps: number; rounds: number }> = {
  tiny: { warmup: 3, steps: 5, rounds: 5 },
  small: { warmup: 2, steps: 3, rounds: 5 },
  base: { warmup: 1, steps: 2, rounds: 3 },
};
const DECODE_BATCHES = [1, 16];

/** Parsed command line. */
interface Options {
  configs: string[]; json: boolean; threads: number; decode: boolean; decoder: 'kv' | 'recompute'; model?: 'gpt2';
  steps?: number; rounds?: number; warmup?: number;
  /** GPT-2's training shape (--model gpt2 only): sequences a step and tokens a sequence. */
  batch?: number; context?: number;
}

/** Parses argv; throws on unknown flags or configs. */
function parseArgs(argv: readonly string[]): Options {
  const o: Options = { configs: [], json: false, threads: 2, decode: false, decoder: 'kv' };
  eachFlag(argv, (flag, v) => {
    if (flag === '--config') o.configs.push(...v.text().split(','));
    else if (flag === '--json') o.json = true;
    else if (flag === '--decode') o.decode = true;
    else if (flag === '--decoder') {
      const d = v.text();
      if (d !== 'kv' && d !== 'recompute') throw new Error(`--decoder must be kv or recompute, got '${d}'`);
      o.decoder = d;
    }
    else if (flag === '--threads') o.threads = v.count();
    else if (flag === '--model') {
      const m = v.text();
      if (m !== 'gpt2') throw new Error(`--model must be gpt2, got '${m}'`);
      o.model = m;
    }
    else if (flag === '--steps') o.steps = v.count();
    else if (flag === '--rounds') o.rounds = v.count();
    else if (flag === '--warmup') o.warmup = v.count();
    else if (flag === '--batch') o.batch = v.count();
    else if (flag === '--context') o.context = v.count();
    else return false;
    return true;
  });
  if (o.configs.length === 0) o.configs.push(o.decode ? 'small' : 'tiny');
  for (const c of o.configs) if (!(c in SPECS)) throw new Error(`unknown config '${c}' (tiny, small, base)`);
  return o;
}

/** Whether PyTorch imports under /usr/bin/python3, and if not why. */
function torchAvailable(): { ok: boolean; why: string } {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: `${PYTHON} cannot run (${r.error.message})` };
  return r.status === 0 ? { ok: true, why: '' } : { ok: false, why: (r.stderr ?? '').trim().split('\n').pop() ?? 'import failed' };
}

/** PyTorch's best set-up on this machine: the OpenMP OpenBLAS, AVX-512 kernels where the CPU has them. */
function torchEnv(threads: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...allocatorEnv(), OMP_NUM_THREADS: String(threads) };
  if (existsSync(OPENBLAS_OPENMP)) env['LD_LIBRARY_PATH'] = [OPENBLAS_OPENMP, process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':');
  if (/\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) env['OPENBLAS_CORETYPE'] = 'SkylakeX';
  return env;
}

/** Starts both workers for one spec (torch only when available) and waits for their ready lines. */
async function startWorkers(spec: BenchSpec, threads: number, withTorch: boolean): Promise<{ ours: Worker; torch: Worker | null; info: Record<string, Record<string, unknown>> }> {
  const specJson = JSON.stringify(spec);
  const ours = new Worker('ours', spawn(process.execPath, ['--import', 'tsx', join(HERE, 'ours-step.ts'), '--spec', specJson],
    { cwd: ROOT, env: { ...allocatorEnv(), AIAYN_THREADS: String(threads) } }));
  const torch = withTorch
    ? new Worker('torch', spawn(PYTHON, [join(HERE, 'torch_step.py'), '--spec', specJson, '--threads', String(threads)], { cwd: ROOT, env: torchEnv(threads) }))
    : null;
  const info: Record<string, Record<string, unknown>> = { ours: await ours.next() };
  if (torch) info['torch'] = await torch.next();
  if (torch && info['ours']!['params'] !== info['torch']!['params']) {
    throw new Error(`the two models differ: ours has ${String(info['ours']!['params'])} parameters, torch ${String(info['torch']!['params'])}`);
  }
  return { ours, torch, info };
}

/** One row of the training table (--json schema of issue 6). */
interface TrainResult {
  config: string; ours_tokens_per_s: number; torch_tokens_per_s: number | null; ratio: number | null;
  ours_ms_per_step: number; torch_ms_per_step: number | null; ours_gflops: number; torch_gflops: number | null;
  ours_mfu: number | null; torch_mfu: number | null; ours_peak_rss_mb: number; torch_peak_rss_mb: number | null;
  gemm_peak_gflops: number | null; threads: number;
}

/** Warm-up, then rounds of K steps alternating sides (order swapped each round); median ms/step per side. */
async function benchTraining(spec: BenchSpec, o: Options, withTorch: boolean, log: (s: string) => void): Promise<TrainResult> {
  const { ours, torch, info } = await startWorkers(spec, o.threads, withTorch);
  // The TypeScript backend takes about a minute per tiny step: one step of warm-up and one measured unless asked.
  const plan = info['ours']!['backend'] === 'native' ? SCHEDULE[spec.name]! : { warmup: 1, steps: 1, rounds: 1 };
  const [warmup, k, rounds] = [o.warmup ?? plan.warmup, o.steps ?? plan.steps, o.rounds ?? plan.rounds];
  try {
    if (info['ours']!['backend'] !== 'native') log(`ours runs on the ${String(info['ours']!['backend'])} backend, not native: ${warmup} warm-up step(s), ${rounds} round(s) of ${k}`);
    log(`${spec.name}: ${String(info['ours']!['params'])} parameters; ours on the ${String(info['ours']!['backend'])} backend (${String(info['ours']!['threads'])} threads)` +
      (torch ? `, torch ${String(info['torch']!['torch'])} (${String(info['torch']!['threads'])} threads, ${String(info['torch']!['blas'])})` : ''));
    await ours.ask(`run ${warmup}`);
    if (torch) await torch.ask(`run ${warmup}`);
    const gemmBefore = await ours.ask('gemm');
    const ms: Record<'ours' | 'torch', number[]> = { ours: [], torch: [] };
    const rss: Record<'ours' | 'torch', number> = { ours: 0, torch: 0 };
    for (let r = 0; r < rounds; r++) {
      const order: Array<['ours' | 'torch', Worker]> = [['ours', ours]];
      if (torch) order[r % 2 === 0 ? 'push' : 'unshift'](['torch', torch]);
      for (const [side, w] of order) {
        const reply = await w.ask(`run ${k}`);
        ms[side].push(Number(reply['ms']) / k);
        rss[side] = Math.max(rss[side], Number(reply['peak_rss_mb']));
        log(`  round ${r + 1}/${rounds} ${side}: ${(Number(reply['ms']) / k).toFixed(1)} ms/step`);
      }
    }
    const gemmAfter = await ours.ask('gemm');
    const peaks = [gemmBefore['gflops'], gemmAfter['gflops']].filter((g): g is number => typeof g === 'number');
    const gemmPeak = peaks.length > 0 ? Math.max(...peaks) : null;
    if (gemmPeak === null) log(`  GEMM peak not measured: ${String(gemmBefore['why'])}`);
    const flops = trainingFlops(spec);
    const tokens = spec.batch * spec.tgt;
    const oursMs = median(ms.ours);
    const torchMs = torch ? median(ms.torch) : null;
    const gflops = (msPerStep: number): number => flops / msPerStep / 1e6;
    const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
    return {
      config: spec.name,
      ours_tokens_per_s: round(tokens / oursMs * 1000), torch_tokens_per_s: torchMs === null ? null : round(tokens / torchMs * 1000),
      ratio: torchMs === null ? null : round(torchMs / oursMs, 3),
      ours_ms_per_step: round(oursMs), torch_ms_per_step: torchMs === null ? null : round(torchMs),
      ours_gflops: round(gflops(oursMs)), torch_gflops: torchMs === null ? null : round(gflops(torchMs)),
      ours_mfu: gemmPeak === null ? null : round(gflops(oursMs) / gemmPeak, 4),
      torch_mfu: gemmPeak === null || torchMs === null ? null : round(gflops(torchMs) / gemmPeak, 4),
      ours_peak_rss_mb: round(rss.ours), torch_peak_rss_mb: torch ? round(rss.torch) : null,
      gemm_peak_gflops: gemmPeak === null ? null : round(gemmPeak), threads: o.threads,
    };
  } finally {
    ours.close();
    torch?.close();
  }
}

/** One row of the decoding table. */
interface DecodeResult {
  config: string; batch: number; new_tokens: number; ours_decoder: string; ours_ms_per_sentence: number;
  torch_ms_per_sentence: number | null; ratio: number | null; threads: number;
}

/** Greedy decoding of `newTokens` tokens at each batch size; median ms per sentence per side. */
async function benchDecode(spec: BenchSpec, o: Options, withTorch: boolean, log: (s: string) => void): Promise<DecodeResult[]> {
  const rounds = o.rounds ?? 5;
  const { ours, torch } = await startWorkers(spec, o.threads, withTorch);
  const results: DecodeResult[] = [];
  try {
    for (const b of DECODE_BATCHES) {
      const k = o.steps ?? (b === 1 ? 4 : 1);
      // V8 and PyTorch both settle over the first decodes (V8 needs ~10 at batch 1 to finish optimising).
      const warmup = o.warmup ?? (b === 1 ? 12 : 3);
      const warm = await ours.ask(`decode ${b} ${warmup} ${o.decoder}`);
      if (torch) await torch.ask(`decode ${b} ${warmup}`);
      const ms: Record<'ours' | 'torch', number[]> = { ours: [], torch: [] };
      for (let r = 0; r < rounds; r++) {
        const order: Array<['ours' | 'torch', Worker]> = [['ours', ours]];
        if (torch) order[r % 2 === 0 ? 'push' : 'unshift'](['torch', torch]);
        for (const [side, w] of order) {
          const reply = await w.ask(side === 'ours' ? `decode ${b} ${k} ${o.decoder}` : `decode ${b} ${k}`);
          ms[side].push(Number(reply['ms']) / (k * b));
        }
      }
      const oursMs = median(ms.ours);
      const torchMs = torch ? median(ms.torch) : null;
      log(`  batch ${b}: ours ${oursMs.toFixed(1)} ms/sentence` + (torchMs === null ? '' : `, torch ${torchMs.toFixed(1)}`));
      results.push({
        config: spec.name, batch: b, new_tokens: spec.newTokens, ours_decoder: String(warm['decoder']),
        ours_ms_per_sentence: Math.round(oursMs * 10) / 10, torch_ms_per_sentence: torchMs === null ? null : Math.round(torchMs * 10) / 10,
        ratio: torchMs === null ? null : Math.round((torchMs / oursMs) * 1000) / 1000, threads: o.threads,
      });
    }
  } finally {
    ours.close();
    torch?.close();
  }
  return results;
}

/** Left-aligned text table. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((v, i) => v.padEnd(widths[i]!)).join('  ')).join('\n');
}

const fmt = (x: number | null, digits = 1): string => (x === null ? '-' : x.toFixed(digits));
const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);

/** Runs the benchmark the command line asks for and prints the table or JSON. */
async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const log = (s: string): void => { process.stderr.write(s + '\n'); };
  const torch = torchAvailable();
  if (!torch.ok) log(`PyTorch is not available (${PYTHON} -c 'import torch': ${torch.why}); printing our side only`);
  if ((o.batch !== undefined || o.context !== undefined) && o.model !== 'gpt2') throw new Error('--batch and --context go with --model gpt2');
  if (o.context !== undefined && o.context > 1024) throw new Error(`--context: GPT-2 has 1024 positions, got ${o.context}`);
  if (o.model === 'gpt2') {
    benchGpt2({ threads: o.threads, json: o.json, python: PYTHON, torchEnv: torch.ok ? torchEnv(o.threads) : null, log, batch: o.batch, context: o.context });
    return;
  }
  if (o.decode) {
    const results: DecodeResult[] = [];
    for (const c of o.configs) results.push(...await benchDecode(SPECS[c]!, o, torch.ok, log));
    if (o.json) { console.log(JSON.stringify({ decode: results })); return; }
    console.log(table(['config', 'batch', 'new tokens', 'ours ms/sentence', 'torch ms/sentence', 'ours/torch speed', 'ours decoder', 'threads'],
      results.map((r) => [r.config, String(r.batch), String(r.new_tokens), fmt(r.ours_ms_per_sentence), fmt(r.torch_ms_per_sentence),
        fmt(r.ratio, 3), r.ours_decoder, String(r.threads)])));
    return;
  }
  const results: TrainResult[] = [];
  for (const c of o.configs) results.push(await benchTraining(SPECS[c]!, o, torch.ok, log));
  if (o.json) { console.log(JSON.stringify({ results })); return; }
  console.log(table(['config', 'side', 'tokens/s', 'ms/step', 'GFLOP/s', 'MFU', 'peak RSS MB', 'ours/torch speed'],
    results.flatMap((r) => [
      [r.config, 'ours', fmt(r.ours_tokens_per_s, 0), fmt(r.ours_ms_per_step), fmt(r.ours_gflops), pct(r.ours_mfu), fmt(r.ours_peak_rss_mb, 0), fmt(r.ratio, 3)],
      [r.config, 'torch', fmt(r.torch_tokens_per_s, 0), fmt(r.torch_ms_per_step), fmt(r.torch_gflops), pct(r.torch_mfu), fmt(r.torch_peak_rss_mb, 0), ''],
    ])));
  const peak = results.find((r) => r.gemm_peak_gflops !== null)?.gemm_peak_gflops ?? null;
  console.log(`GEMM peak (dnnl_sgemm 1024^3, ${o.threads} threads): ${peak === null ? 'not measured (native addon unavailable)' : `${peak.toFixed(1)} GFLOP/s`}; MFU = model GFLOP/s / GEMM peak`);
}

await main();
