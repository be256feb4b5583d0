// Data-parallel training under Open MPI's mpirun (docs/distributed.md): 2 ranks of 1 thread give the weights of
// one process with the same global batch after 20 steps; a killed rank ends the job with a message and leaves a
// checkpoint that a job of another size resumes from; a hung rank trips the others' watchdog. Skips with a
// notice without mpirun or the MPI addon, unless AIAYN_REQUIRE_MPI=1 (CI), where it must run.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readMulti30k } from '../src/data/corpora.js';
import { loadSafetensors } from '../src/io/safetensors.js';
import { rankShare } from '../src/data/batching.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { tensor } from '../src/tensor/ops/create.js';
import { launchedSize, type Collective } from '../src/train/distributed.js';
import { GradientBuckets } from '../src/train/grad-buckets.js';
import { listCheckpoints, trainTranslation, type TranslationRun } from '../src/train/translation.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADDON = join(ROOT, 'native', 'mpi', 'build', 'Release', 'aiayn_mpi.node');
const haveMpirun = spawnSync('mpirun', ['--version']).status === 0;
const missing = !haveMpirun ? 'mpirun is not on PATH' : !existsSync(ADDON) ? `the MPI addon ${ADDON} is not built` : null;
if (missing !== null && process.env['AIAYN_REQUIRE_MPI'] === '1') throw new Error(`AIAYN_REQUIRE_MPI=1 but ${missing} (apt-get install libopenmpi-dev openmpi-bin; node scripts/build-native.mjs)`);
if (missing !== null) console.error(`distributed.test.ts: skipped, ${missing} (install libopenmpi-dev openmpi-bin and rebuild to run it)`);
const skip = missing ?? false;

/** The demo recipe's learning rate on a 2-layer model of width 32; dropout off, 20 steps, checkpoints every 10. */
const SETTINGS = {
  modelPreset: 'tiny', model: { dropout: 0, attentionDropout: 0, finalNorm: true, shareEmbeddings: 'all', dModel: 32, dFF: 64, h: 2, encoderLayers: 1, decoderLayers: 1, maxLen: 64 },
  srcLang: 'de', tgtLang: 'en', vocabSize: 600, batchTokens: 512, maxSteps: 20, maxMinutes: 0, warmup: 300, lrFactor: 0.5, clipNorm: 0,
  evalEvery: 1000, bleuSentences: 0, checkpointEvery: 10, keepCheckpoints: 3, seed: 1, bucketBytes: 16384,
} as const;

/** Runs test/helpers/distributed-worker.ts as `ranks` MPI processes of 1 thread; resolves to its exit code, output and seconds. */
function mpirun(ranks: number, out: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string; seconds: number }> {
  const args = ['--oversubscribe', '--bind-to', 'none', '-np', String(ranks), process.execPath, '--import', 'tsx', 'test/helpers/distributed-worker.ts', JSON.stringify({ ...SETTINGS, out })];
  const started = performance.now();
  const child = spawn('mpirun', args, {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AIAYN_THREADS: '1', OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', ...env },
  });
  let output = '';
  for (const s of [child.stdout, child.stderr]) s.setEncoding('utf8').on('data', (d: string) => { output += d; });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output, seconds: (performance.now() - started) / 1000 })));
}

/** One process training in this one on the same data as the worker. */
async function single(out: string, resume = false): Promise<void> {
  const train = (await readMulti30k('train', 'de', 'en')).slice(0, 400);
  const val = (await readMulti30k('val', 'de', 'en')).slice(0, 20);
  await trainTranslation({ ...SETTINGS, model: { ...SETTINGS.model }, train, val, out, resume, progress: false, log: () => {} } as TranslationRun);
}

/**
 * The largest difference between the weights of two model directories. The key third of in_proj_bias is left
 * out: its exact gradient is zero (softmax ignores a shift common to a query's scores), so it holds rounding noise
 * that Adam scales up to ±lr per step, and it differs as much between one process on 1 and on 2 threads.
 */
function maxWeightDiff(a: string, b: string): { diff: number; name: string } {
  const [wa, wb] = [a, b].map((dir) => loadSafetensors(join(dir, 'weights.safetensors')).tensors);
  let worst = { diff: 0, name: '' };
  for (const [name, t] of wa!) {
    const u = wb!.get(name)!.data, third = t.data.length / 3;
    for (let i = 0; i < t.data.length; i++) {
      if (name.endsWith('in_proj_bias') && i >= third && i < 2 * third) continue;
      const diff = Math.abs(t.data[i]! - u[i]!);
      if (diff > worst.diff) worst = { diff, name };
    }
  }
  return worst;
}

const dir = (name: string) => tempDir(`aiayn-dist-${name}-`);

test('rankShare splits a global batch into disjoint contiguous shares; launchedSize reads the launcher', () => {
  const rows = [10, 11, 12, 13, 14];
  assert.deepEqual([0, 1, 2].map((r) => rankShare(rows, r, 3)), [[10], [11, 12], [13, 14]]);
  assert.deepEqual(rankShare([7], 1, 2), [7]);
  assert.deepEqual(rankShare([7], 0, 2), []);
  assert.equal(launchedSize({ OMPI_COMM_WORLD_SIZE: '4' }), 4);
  assert.equal(launchedSize({ SLURM_STEP_NUM_TASKS: '8' }), 8);
  assert.equal(launchedSize({}), 1);
});

test('GradientBuckets: buckets start in order while backward runs; weighted sums come back as .grad', async () => {
  const model = new Transformer(makeConfig('tiny', { srcVocab: 20, tgtVocab: 20, dModel: 16, dFF: 32, h: 2, encoderLayers: 2, decoderLayers: 2, dropout: 0, attentionDropout: 0, seed: 1 }));
  const src = tensor([[5, 6, 7, 2], [8, 9, 2, 0]], [2, 4], 'int32');
  const tgtIn = tensor([[1, 10, 11], [1, 12, 0]], [2, 3], 'int32');
  const tgtOut = tensor([[10, 11, 2], [12, 2, 0]], [2, 3], 'int32');
  const params = model.parameters();
  const backward = () => { const l = model.loss(src, tgtIn, tgtOut, { padId: 0, labelSmoothing: 0.1 }); l.backward(); return l.item(); };
  const loss = backward();
  const reference = params.map((p) => p.grad!.toArray());
  model.zeroGrad();
  // A second rank with the same gradients: every all-reduce doubles its bucket.
  const gradsAtStart: number[] = [];
  const twoRanks: Collective = {
    rank: 0, size: 2, progress: () => {}, wait: async () => {}, broadcast: async () => {}, barrier: async () => {}, finalize: () => {},
    startAllreduce: (buf) => { gradsAtStart.push(params.filter((p) => p.grad !== null).length); buf.forEach((v, i) => { buf[i] = 2 * v; }); return { id: 0, done: true }; },
  };
  const buckets = new GradientBuckets(params, twoRanks, 4096);
  buckets.begin(0.5);
  const local = backward();
  const agreed = await buckets.finish(local, true);
  buckets.dispose();
  assert.ok(gradsAtStart.length > 3, `${gradsAtStart.length} buckets`);
  assert.ok(gradsAtStart[0]! < params.length, 'the first bucket starts before backward has reached every parameter');
  assert.deepEqual(gradsAtStart, [...gradsAtStart].sort((a, b) => a - b));
  params.forEach((p, i) => assert.deepEqual(p.grad!.toArray(), reference[i], `gradient ${i}`));
  assert.deepEqual(agreed, { loss: Math.fround(loss), stop: true });
});

test('mpirun -np 2 (1 thread each) gives the weights of one process with the same global batch after 20 steps', { skip }, async () => {
  const [two, one] = [dir('two'), dir('one')];
  const run = await mpirun(2, two);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /rank 0 of 2: 20 steps/);
  assert.match(run.output, /rank 1 of 2: 20 steps/);
  await single(one);
  const { diff, name } = maxWeightDiff(two, one);
  assert.ok(diff < 1e-5, `max |w2 - w1| = ${diff} in ${name}`);
});

test('a killed rank ends the job with a message; its last checkpoint resumes on 1 process to the same weights', { skip }, async () => {
  const [killed, straight] = [dir('killed'), dir('straight')];
  const run = await mpirun(2, killed, { AIAYN_TEST_FAULT: 'kill:1:15' });
  assert.notEqual(run.code, 0);
  assert.ok(run.seconds < 60, `the job took ${run.seconds} s to end`);
  assert.match(run.output, /rank 0 of 2 stopped by SIGTERM/);
  assert.match(run.output, /exited on signal 9/);
  const ckpts = listCheckpoints(join(killed, 'checkpoints'));
  assert.deepEqual(ckpts.map((p) => p.replace(/.*\//, '')), ['ckpt-10.safetensors']);
  await single(killed, true); // 2 ranks to step 10, 1 process from there to 20
  await single(straight);
  const { diff, name } = maxWeightDiff(killed, straight);
  assert.ok(diff < 1e-5, `max |w - w_straight| = ${diff} in ${name}`);
});

test('a hung rank trips the others\' watchdog (AIAYN_COLLECTIVE_TIMEOUT), which ends the job with a message', { skip }, async () => {
  const run = await mpirun(2, dir('hung'), { AIAYN_TEST_FAULT: 'hang:1:5', AIAYN_COLLECTIVE_TIMEOUT: '3' });
  assert.notEqual(run.code, 0);
  assert.ok(run.seconds < 45, `the job took ${run.seconds} s to end`);
  assert.match(run.output, /rank 0 of 2: the all-reduce of gradient bucket \d+ of \d+ did not complete within 3 s/);
});
