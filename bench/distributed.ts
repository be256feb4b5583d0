// The cost of data parallelism on one machine (docs/distributed.md): `aiayn train` on the `small` preset as
// 2 MPI ranks × 1 thread against 1 process × 2 threads, same global batch, target tokens/s from rank 0's log;
// and the time Open MPI takes to all-reduce the gradients of the paper's `base` model between 2 ranks.
//
//   node --import tsx bench/distributed.ts [--steps 40] [--skip 5] [--repeats 5]
// Prints the load average (uptime) beside every number: the machine may be shared.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { allreduce, openCollective } from '../src/train/distributed.js';
import { eachFlag } from './flags.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
const MPIRUN = ['mpirun', '--oversubscribe', '--bind-to', 'none'];
const ROOT_OK = { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' };

/** The 1-, 5- and 15-minute load averages, as uptime prints them. */
function load(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' ');
}

/** Runs `aiayn train` on the small preset (as `ranks` MPI processes when ranks > 1); target tokens/s over the steps after `skip`. */
function trainRate(ranks: number, threads: number, steps: number, skip: number): number {
  const out = mkdtempSync(join(tmpdir(), 'aiayn-bench-dist-'));
  const train = [process.execPath, '--import', 'tsx', '-e', CLI, 'train', '--preset', 'multi30k-de-en', '--max-steps', String(steps),
    '--eval-every', '100000', '--bleu-sentences', '0', '--checkpoint-every', '100000', '--out', out, '--quiet'];
  const argv = ranks > 1 ? [...MPIRUN, '-np', String(ranks), ...train] : train;
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...ROOT_OK, AIAYN_THREADS: String(threads) } });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  const records = readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>)
    .filter((rec) => typeof rec['loss'] === 'number');
  const [from, to] = [records[skip - 1]!, records.at(-1)!];
  return (to['tokens']! - from['tokens']!) / (to['seconds']! - from['seconds']!);
}

/** In each of 2 ranks: the median time of all-reducing the base model's gradients, whole and in 4 MiB buckets. */
async function allreduceWorker(repeats: number): Promise<void> {
  const world = openCollective();
  const model = new Transformer(makeConfig('base', { srcVocab: 37000, tgtVocab: 37000, shareEmbeddings: 'all' }));
  const sizes = model.parameters().map((p) => p.size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const whole = new Float32Array(total).fill(1);
  const buckets = Array.from({ length: Math.ceil(total / (1 << 20)) }, (_, i) => new Float32Array(Math.min(1 << 20, total - i * (1 << 20))));
  const median = async (fn: () => Promise<void>): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      await world.barrier('bench');
      const t0 = performance.now();
      await fn();
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[Math.floor(repeats / 2)]!;
  };
  const one = await median(() => allreduce(world, whole, 'bench'));
  const many = await median(async () => {
    const ops = buckets.map((b) => world.startAllreduce(b));
    for (const op of ops) await world.wait(op, 'bench');
  });
  if (world.rank === 0) {
    console.log(`all-reduce of the base model's gradients (${(total / 1e6).toFixed(1)}M floats, ${(total * 4 / 2 ** 20).toFixed(0)} MiB), 2 ranks: ` +
      `${one.toFixed(0)} ms whole, ${many.toFixed(0)} ms in ${buckets.length} buckets of 4 MiB (median of ${repeats}; load ${load()})`);
  }
}

let steps = 40, skip = 5, repeats = 5, worker = false;
eachFlag(process.argv.slice(2), (flag, value) => {
  if (flag === '--steps') steps = value.count();
  else if (flag === '--skip') skip = value.count();
  else if (flag === '--repeats') repeats = value.count();
  else if (flag === '--allreduce-worker') worker = true;
  else return false;
  return true;
});
if (worker) {
  await allreduceWorker(repeats);
} else {
  const r = spawnSync(MPIRUN[0]!, [...MPIRUN.slice(1), '-np', '2', process.execPath, '--import', 'tsx', 'bench/distributed.ts', '--allreduce-worker', '--repeats', String(repeats)],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...ROOT_OK, AIAYN_THREADS: '1' } });
  process.stdout.write(r.stdout);
  if (r.status !== 0) throw new Error(`all-reduce bench failed: ${r.stderr}`);
  for (const [ranks, threads] of [[1, 2], [2, 1], [1, 2], [2, 1]] as const) {
    const before = load();
    const rate = trainRate(ranks, threads, steps, skip);
    console.log(`small preset, ${ranks} process${ranks > 1 ? 'es' : ''} x ${threads} thread${threads > 1 ? 's' : ''}: ${rate.toFixed(0)} target tokens/s ` +
      `(steps ${skip + 1}-${steps}; load before ${before}, after ${load()})`);
  }
}
