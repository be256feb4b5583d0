// Fuzzes the readers of files users get from others (safetensors, both tokenizers, config.json, model
// directories, corpora) and the HTTP request bodies of `aiayn serve`: each case mutates a valid input (seeded,
// so a case is reproduced from its seed and index) and feeds it to its reader in a worker thread. A case that
// runs past the time limit is a hang (the worker is terminated and replaced); a worker that dies, or whose
// process grows past the memory limit, is a crash; so is an error whose message does not name the file.
//
//   npm run fuzz [-- --cases 10000 --seed 1 --reader safetensors --timeout-ms 10000]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TARGETS } from './fuzz/targets.js';

/** How a reader is fuzzed. */
export interface FuzzOptions {
  cases: number;
  seed: number;
  /** A case running longer is a hang (default 10 s). */
  timeoutMs?: number;
  /** The process's resident memory after a case above this is a memory blow-up (default 1536 MiB). */
  memoryLimitMb?: number;
}

/** A case that crashed, hung or blew up memory: reproduce it with the same seed and index. */
export interface FuzzFailure { index: number; mutation: string; detail: string; }

/** The counts for one reader. */
export interface FuzzReport {
  reader: string;
  cases: number;
  valid: number;
  clean: number;
  crashes: FuzzFailure[];
  hangs: FuzzFailure[];
  /** Highest resident memory of the process seen after a case, MiB. */
  peakRssMb: number;
  /** Slowest case, ms. */
  slowestMs: number;
  seconds: number;
}

interface Reply { index: number; mutation: string; outcome: { kind: 'valid' | 'clean' | 'crash'; detail: string }; ms: number; rss: number; }

const WORKER = new URL('./fuzz/worker.ts', import.meta.url).href;
const TSX_API = import.meta.resolve('tsx/esm/api');

/** Starts a worker for `reader` and waits until its valid files are set up. */
async function startWorker(reader: string, dir: string): Promise<Worker> {
  const code = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER)}); })`;
  const worker = new Worker(code, { eval: true, workerData: { reader, dir }, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
  await new Promise<void>((ready, fail) => {
    const ok = () => { worker.off('error', failed); ready(); };
    const failed = (err: Error) => { worker.off('message', ok); fail(err); };
    worker.once('message', ok);
    worker.once('error', failed);
  });
  return worker;
}

/** Runs one case: its reply, or the hang or worker death that ended it. */
function runCase(worker: Worker, seed: number, index: number, timeoutMs: number): Promise<Reply | { failed: 'hang' | 'crash'; detail: string }> {
  return new Promise((resolve) => {
    // Listeners are removed one by one: removeAllListeners() would also drop the Worker's own, and stop its messages.
    const onMessage = (reply: Reply) => done(reply);
    const onError = (err: Error) => done({ failed: 'crash', detail: `the worker died: ${err.message}` });
    const onExit = (code: number) => done({ failed: 'crash', detail: `the worker exited with ${code}` });
    const done = (value: Reply | { failed: 'hang' | 'crash'; detail: string }) => {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      resolve(value);
    };
    const timer = setTimeout(() => done({ failed: 'hang', detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
    worker.once('message', onMessage).once('error', onError).once('exit', onExit);
    worker.postMessage({ seed, index });
  });
}

/** Fuzzes one reader for `cases` cases. */
export async function fuzzReader(reader: string, options: FuzzOptions): Promise<FuzzReport> {
  if (!TARGETS.has(reader)) throw new Error(`fuzz: unknown reader '${reader}' (known: ${[...TARGETS.keys()].join(', ')})`);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const memoryLimit = (options.memoryLimitMb ?? 1536) * 2 ** 20;
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), `aiayn-fuzz-${reader}-`));
  const report: FuzzReport = { reader, cases: 0, valid: 0, clean: 0, crashes: [], hangs: [], peakRssMb: 0, slowestMs: 0, seconds: 0 };
  let worker = await startWorker(reader, dir);
  try {
    for (let index = 0; index < options.cases; index++) {
      const r = await runCase(worker, options.seed, index, timeoutMs);
      report.cases++;
      if ('failed' in r) {
        (r.failed === 'hang' ? report.hangs : report.crashes).push({ index, mutation: '(see seed and index)', detail: r.detail });
        await worker.terminate();
        worker = await startWorker(reader, dir);
        continue;
      }
      report.peakRssMb = Math.max(report.peakRssMb, r.rss / 2 ** 20);
      report.slowestMs = Math.max(report.slowestMs, r.ms);
      if (r.rss > memoryLimit) report.crashes.push({ index, mutation: r.mutation, detail: `memory blow-up: resident ${(r.rss / 2 ** 20).toFixed(0)} MiB after the case` });
      else if (r.outcome.kind === 'crash') report.crashes.push({ index, mutation: r.mutation, detail: r.outcome.detail });
      else report[r.outcome.kind]++;
    }
  } finally {
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? undefined : process.argv[i + 1]; };
  const readers = arg('reader')?.split(',') ?? [...TARGETS.keys()];
  const options: FuzzOptions = { cases: Number(arg('cases') ?? 10_000), seed: Number(arg('seed') ?? 1), timeoutMs: arg('timeout-ms') === undefined ? undefined : Number(arg('timeout-ms')) };
  console.log(`| reader | cases | valid | clean error | crash | hang | slowest case | peak RSS | time |\n|---|---|---|---|---|---|---|---|---|`);
  let failed = false;
  for (const reader of readers) {
    const r = await fuzzReader(reader, options);
    console.log(`| ${r.reader} | ${r.cases} | ${r.valid} | ${r.clean} | ${r.crashes.length} | ${r.hangs.length} | ${r.slowestMs.toFixed(0)} ms | ${r.peakRssMb.toFixed(0)} MiB | ${r.seconds.toFixed(1)} s |`);
    for (const f of [...r.crashes, ...r.hangs].slice(0, 20)) console.log(`  ${reader} case ${f.index} (seed ${options.seed}): ${f.mutation}: ${f.detail}`);
    failed ||= r.crashes.length + r.hangs.length > 0;
  }
  process.exitCode = failed ? 1 : 0;
}
