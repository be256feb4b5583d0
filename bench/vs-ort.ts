// Greedy decoding with the KV cache, aiayn against onnxruntime on the same weights: the `small` Transformer
// (Vaswani et al. 2017, Figure 1, §3.2.3: cached self-attention keys/values, memory keys/values projected once)
// with random weights is exported to ONNX (aiayn export onnx's graphs), then the same random sources are decoded
// for 32 new tokens (eos never ends a row) by aiayn's native TransformerDecoder and by bench/ort-greedy.ts's loop
// around onnxruntime-node sessions with the same intra-op thread count, in alternating rounds; median ms/sentence.
//
// Usage: npm run bench:vs-ort [-- --json] [--threads 2] [--rounds 5] [--warmup W] [--profile DIR]

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '../src/backend/index.js';
import { greedyDecode } from '../src/decode/greedy.js';
import { TransformerDecoder } from '../src/decode/transformer-decoder.js';
import { exportModelOnnx } from '../src/io/onnx/export.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { Rng } from '../src/tensor/index.js';
import { eachFlag } from './flags.js';
import { OrtSeq2Seq } from './ort-greedy.js';
import { summarizeOrtProfiles } from './ort-profile.js';
import { randomIds } from './webgpu/model.js';
import { median, SPECS } from './workers.js';

const BATCHES = [1, 16];

/** Parsed command line. */
interface Options { json: boolean; threads: number; rounds: number; warmup?: number; profile?: string; }

/** Parses argv; throws on unknown flags. */
function parseArgs(argv: readonly string[]): Options {
  const o: Options = { json: false, threads: 2, rounds: 5 };
  eachFlag(argv, (flag, v) => {
    if (flag === '--json') o.json = true;
    else if (flag === '--threads') o.threads = v.count();
    else if (flag === '--rounds') o.rounds = v.count();
    else if (flag === '--warmup') o.warmup = v.count();
    else if (flag === '--profile') o.profile = v.text();
    else return false;
    return true;
  });
  return o;
}

/** One row of the --json output. */
interface Result { batch: number; ours_ms: number; ort_ms: number; ratio: number; }

/** Milliseconds of `k` runs of `run`. */
async function timed(k: number, run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < k; i++) await run();
  return performance.now() - t0;
}

/** Runs the race and prints the table or JSON. */
async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  process.env['AIAYN_THREADS'] ??= String(o.threads);
  const log = (s: string): void => { process.stderr.write(s + '\n'); };
  const spec = SPECS['small']!;
  const model = new Transformer(makeConfig('small', { srcVocab: spec.vocab, tgtVocab: spec.vocab, maxLen: 512, seed: 1 })).eval();
  if (getBackend().threads() !== o.threads) throw new Error(`aiayn runs ${getBackend().threads()} threads but --threads is ${o.threads}: unset AIAYN_THREADS`);
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-vs-ort-'));
  const results: Result[] = [];
  try {
    await exportModelOnnx(model, dir, { force: true });
    if (o.profile !== undefined) mkdirSync(o.profile, { recursive: true });
    const ort = await OrtSeq2Seq.load(dir, o.threads, o.profile === undefined ? {} : { enableProfiling: true, profileFilePrefix: join(o.profile, 'ort') });
    log(`small (d${spec.d} h${spec.h} ff${spec.ff} ${spec.enc}+${spec.dec} V${spec.vocab}), random weights; ${spec.src} source tokens, ${spec.newTokens} new tokens; ` +
      `aiayn on ${getBackend().name} (${getBackend().threads()} threads), onnxruntime ${(await import('onnxruntime-node')).env.versions.node} (intraOpNumThreads ${o.threads})`);
    const rng = new Rng(7);
    for (const b of BATCHES) {
      const ids = randomIds(rng, b, spec.src, spec.vocab);
      const rows = Array.from({ length: b }, (_, i) => Array.from(ids.subarray(i * spec.src, (i + 1) * spec.src)));
      const ours = async (): Promise<number[][]> => {
        const decoder = new TransformerDecoder(model, rows, 0);
        try { return await greedyDecode(decoder, b, { bos: 1, eos: -1, maxLen: spec.newTokens }); } finally { decoder.dispose(); }
      };
      const theirs = (): Promise<number[][]> => ort.greedy(rows, spec.newTokens, { eos: -1 });
      const same = JSON.stringify(await ours()) === JSON.stringify(await theirs());
      if (!same) log(`  batch ${b}: the two sides chose different tokens (near-ties of random weights?)`);
      const k = b === 1 ? 4 : 1;
      const warmup = o.warmup ?? (b === 1 ? 12 : 3);
      await timed(warmup, ours);
      await timed(warmup, theirs);
      const ms = { ours: [] as number[], ort: [] as number[] };
      for (let r = 0; r < o.rounds; r++) {
        const order: Array<['ours' | 'ort', () => Promise<unknown>]> = r % 2 === 0 ? [['ours', ours], ['ort', theirs]] : [['ort', theirs], ['ours', ours]];
        for (const [side, run] of order) ms[side].push(await timed(k, run) / (k * b));
      }
      const [oursMs, ortMs] = [median(ms.ours), median(ms.ort)];
      log(`  batch ${b}: ours ${oursMs.toFixed(1)} ms/sentence, onnxruntime ${ortMs.toFixed(1)} (same tokens: ${same})`);
      results.push({ batch: b, ours_ms: Math.round(oursMs * 100) / 100, ort_ms: Math.round(ortMs * 100) / 100, ratio: Math.round((ortMs / oursMs) * 1000) / 1000 });
    }
    await ort.release();
    if (o.profile !== undefined) {
      log(`onnxruntime profiles (Chrome-trace JSON): ${o.profile}/ort_*.json; by operator type:`);
      for (const p of summarizeOrtProfiles(o.profile, 'ort')) {
        const nodes = p.ops.reduce((s, [, ms]) => s + ms, 0);
        log(`  ${p.file}: ${p.runs} runs, ${p.runMs.toFixed(1)} ms in runs, ${nodes.toFixed(1)} ms in operators: ` +
          p.ops.slice(0, 8).map(([op, ms]) => `${op} ${(100 * ms / nodes).toFixed(1)}%`).join(', '));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (o.json) { console.log(JSON.stringify({ results })); return; }
  console.log(['batch  ours ms/sentence  onnxruntime ms/sentence  ratio (ort/ours)',
    ...results.map((r) => `${String(r.batch).padEnd(5)}  ${r.ours_ms.toFixed(2).padEnd(16)}  ${r.ort_ms.toFixed(2).padEnd(23)}  ${r.ratio.toFixed(3)}`)].join('\n'));
}

await main();
