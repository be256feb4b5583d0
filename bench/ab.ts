// A/B of aiayn against itself: the training step (and, with --decode, greedy decoding) of two checkouts of this
// repository, e.g. the last release and the working tree, in one script. Each checkout runs its own
// bench/ours-step.ts worker (bench/README.md); after a warm-up the rounds alternate between them, the order swapped
// every round, and the median of each side is reported with the ratio B / A of the times.
//
// Usage: node --import tsx bench/ab.ts --a DIR --b DIR [--config tiny|small|base] [--rounds R] [--steps K]
//        [--threads 2] [--decode BATCH] [--json]

import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { eachFlag } from './flags.js';
import { allocatorEnv, median, SPECS, Worker } from './workers.js';

/** Parsed command line. */
interface Options { a: string; b: string; config: string; rounds: number; steps: number; threads: number; decode: number | null; json: boolean; }

/** Parses argv; throws on unknown or missing flags. */
function parseArgs(argv: readonly string[]): Options {
  const o: Partial<Options> = { config: 'tiny', rounds: 12, steps: 5, threads: 2, decode: null, json: false };
  eachFlag(argv, (flag, v) => {
    if (flag === '--a') o.a = resolve(v.text());
    else if (flag === '--b') o.b = resolve(v.text());
    else if (flag === '--config') o.config = v.text();
    else if (flag === '--rounds') o.rounds = v.count();
    else if (flag === '--steps') o.steps = v.count();
    else if (flag === '--threads') o.threads = v.count();
    else if (flag === '--decode') o.decode = v.count();
    else if (flag === '--json') o.json = true;
    else return false;
    return true;
  });
  if (o.a === undefined || o.b === undefined) throw new Error('--a DIR and --b DIR (two checkouts of aiayn) are required');
  if (!(o.config! in SPECS)) throw new Error(`unknown config '${o.config}' (tiny, small, base)`);
  return o as Options;
}

/** Starts the ours-step worker of the checkout in `dir`. */
async function start(name: string, dir: string, spec: string, threads: number): Promise<Worker> {
  const worker = new Worker(name, spawn(process.execPath, ['--import', 'tsx', join(dir, 'bench', 'ours-step.ts'), '--spec', spec],
    { cwd: dir, env: { ...allocatorEnv(), AIAYN_THREADS: String(threads) } }));
  const ready = await worker.next();
  if (ready['backend'] !== 'native') throw new Error(`${name} (${dir}) runs on the ${String(ready['backend'])} backend, not native`);
  return worker;
}

const o = parseArgs(process.argv.slice(2));
const spec = JSON.stringify(SPECS[o.config]);
const sides = [await start('A', o.a, spec, o.threads), await start('B', o.b, spec, o.threads)] as const;
const command = o.decode === null ? `run ${o.steps}` : `decode ${o.decode} ${o.steps}`;
const per = (r: Record<string, unknown>): number => (r['ms'] as number) / o.steps;
try {
  for (const side of sides) await side.ask(command); // warm-up
  const times: [number[], number[]] = [[], []];
  for (let round = 0; round < o.rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) times[i]!.push(per(await sides[i]!.ask(command)));
  }
  const [a, b] = [median(times[0]), median(times[1])];
  const what = o.decode === null ? `${o.config} training step` : `${o.config} greedy decode, batch ${o.decode}`;
  if (o.json) console.log(JSON.stringify({ what, a: o.a, b: o.b, a_ms: a, b_ms: b, ratio: b / a, rounds: o.rounds, a_runs: times[0], b_runs: times[1] }));
  else console.log(`${what}: A ${a.toFixed(2)} ms, B ${b.toFixed(2)} ms, B/A ${(b / a).toFixed(3)} (medians of ${o.rounds} rounds of ${o.steps})`);
} finally {
  for (const side of sides) side.close();
}
