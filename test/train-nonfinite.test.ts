// A training step whose gradients are not finite (an Inf injected after the backward pass) is skipped and
// logged, the weights do not move, and after 5 such steps in a row (or the first, with policy 'stop') training
// stops naming the first parameter whose gradient is not finite, with the last good checkpoint kept.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readMulti30k } from '../src/data/corpora.js';
import { loadSafetensors } from '../src/io/safetensors.js';
import { findNonfinite } from '../src/io/validate.js';
import { checkpointWeights } from '../src/train/checkpoint.js';
import { NonfiniteGuard, parseNonfinitePolicy } from '../src/train/nonfinite.js';
import { trainPreset } from '../src/train/presets.js';
import { listCheckpoints, trainTranslation, type TranslationRun } from '../src/train/translation.js';
import { tempDir } from './helpers/temp.js';

const train = (await readMulti30k('train', 'de', 'en')).slice(0, 400);
const val = (await readMulti30k('val', 'de', 'en')).slice(0, 20);

/** A tiny run that writes a checkpoint every 2 steps and poisons the gradients of the steps in `bad`. */
function run(bad: (step: number) => boolean, overrides: Partial<TranslationRun> = {}): TranslationRun & { victim: string[] } {
  const victim: string[] = [];
  return {
    ...trainPreset('demo'), model: { dModel: 32, dFF: 64, h: 2, encoderLayers: 1, decoderLayers: 1, finalNorm: true, maxLen: 64 },
    vocabSize: 600, batchTokens: 512, warmup: 10, maxSteps: 10, maxMinutes: 0, evalEvery: 1000, bleuSentences: 0, checkpointEvery: 2,
    keepCheckpoints: 10, train, val, out: tempDir('aiayn-nonfinite-'), progress: false, log: () => {}, victim,
    onGradients: (named, step) => {
      if (!bad(step)) return;
      // Poison the 6th and 9th parameters; the 6th is the one to be named.
      for (const k of [8, 5]) {
        const grad = named[k]![1].grad!;
        grad.assign(Float32Array.from(grad.toArray(), (v, i) => (i === 3 ? (k === 5 ? Infinity : NaN) : v)));
      }
      victim[0] = named[5]![0];
    },
    ...overrides,
  };
}

/** The train-log.jsonl records. */
const logOf = (out: string) => readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
/** The optimizer's update count stored in a checkpoint. */
const updates = (path: string) => (JSON.parse(loadSafetensors(path).metadata.get('optimizer')!) as { steps: number }).steps;

test('a non-finite step is skipped, logged and counted; the weights do not move; training goes on', async () => {
  const r = run((step) => step === 3 || step === 4);
  const result = await trainTranslation(r);
  assert.equal(result.steps, 10);
  const log = logOf(r.out);
  const skipped = log.filter((rec) => rec['skipped'] !== undefined);
  assert.deepEqual(skipped.map((rec) => rec['step']), [3, 4]);
  assert.match(String(skipped[0]!['skipped']), new RegExp(`^step 3: loss \\d\\.\\d+, gradient norm NaN; first non-finite gradient: ${r.victim[0]!.replace(/\./g, '\\.')}$`));
  assert.equal(log.filter((rec) => typeof rec['loss'] === 'number').length, 8);
  const ckpt = (step: number) => join(r.out, 'checkpoints', `ckpt-${step}.safetensors`);
  assert.deepEqual([2, 4, 6].map((s) => updates(ckpt(s))), [2, 2, 4], 'steps 3 and 4 applied no update');
  const [w2, w4, w6] = [2, 4, 6].map((s) => checkpointWeights(ckpt(s)));
  for (const [name, t] of w2!) assert.deepEqual(w4!.get(name)!.data, t.data, `${name} unchanged by the skipped steps`);
  assert.notDeepEqual(w6!.get(r.victim[0]!)!.data, w4!.get(r.victim[0]!)!.data, 'and updates resume after them');
});

test('5 non-finite steps in a row stop training, naming the parameter; the last good checkpoint is kept', async () => {
  const r = run((step) => step >= 3);
  await assert.rejects(trainTranslation(r), (err: Error) => {
    assert.match(err.message, new RegExp(`^train: stopped after 5 non-finite steps in a row \\(--on-nonfinite skip\\); step 7: .*first non-finite gradient: ${r.victim[0]!.replace(/\./g, '\\.')}\\. The last good checkpoint is ${join(r.out, 'checkpoints', 'ckpt-6.safetensors')}`));
    return true;
  });
  const ckpts = listCheckpoints(join(r.out, 'checkpoints'));
  assert.deepEqual(ckpts.map((p) => updates(p)), [2, 2, 2]);
  for (const p of ckpts) assert.deepEqual(findNonfinite(checkpointWeights(p)), [], `${p} is finite`);
  assert.deepEqual(findNonfinite(loadSafetensors(join(r.out, 'weights.safetensors')).tensors), []);
});

test("policy 'stop' stops at the first non-finite step", async () => {
  const r = run((step) => step === 3, { onNonfinite: 'stop' });
  await assert.rejects(trainTranslation(r), /^Error: train: stopped after 1 non-finite step in a row \(--on-nonfinite stop\); step 3: .*The last good checkpoint is .*ckpt-2\.safetensors/);
  assert.throws(() => parseNonfinitePolicy('ignore'), /--on-nonfinite must be 'skip' or 'stop', got 'ignore'/);
  assert.throws(() => new NonfiniteGuard({ maxSkips: 0 }), /must be a positive integer, got 0/);
});
