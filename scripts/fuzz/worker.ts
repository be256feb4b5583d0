// The fuzzer's worker thread: sets up one reader's valid files, then runs the cases the main thread asks for,
// each from its own seeded generator, and answers how it ended (the main thread times it and watches memory).

import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../../src/tensor/random.js';
import { freshDir, TARGETS } from './targets.js';

/** The generator of case `index` of a run seeded with `seed`. */
export function caseRng(seed: number, index: number): Rng {
  return new Rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

if (parentPort !== null && workerData?.reader !== undefined) {
  const port = parentPort;
  const { reader, dir } = workerData as { reader: string; dir: string };
  const runCase = await TARGETS.get(reader)!.setup(freshDir(join(dir, 'setup')));
  port.on('message', async ({ seed, index }: { seed: number; index: number }) => {
    const started = performance.now();
    let result;
    try {
      result = await runCase(caseRng(seed, index), freshDir(join(dir, 'case')));
    } catch (err) {
      result = { mutation: '(harness)', outcome: { kind: 'crash', detail: `the case itself failed: ${(err as Error).stack}` } };
    }
    port.postMessage({ index, ...result, ms: performance.now() - started, rss: process.memoryUsage().rss });
  });
  port.postMessage({ ready: true });
}
