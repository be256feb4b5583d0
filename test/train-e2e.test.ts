// The training loop end to end on real data (a slice of the bundled Multi30k, a tiny model): validation
// loss falls, a killed run resumes bit-exactly, checkpoints average, and the model directory translates.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readMulti30k } from '../src/data/corpora.js';
import { loadModelDir } from '../src/io/model-dir.js';
import { averageCheckpoints, checkpointWeights } from '../src/train/checkpoint.js';
import { trainPreset } from '../src/train/presets.js';
import { listCheckpoints, trainTranslation, type TranslationRun } from '../src/train/translation.js';
import { decodePng } from './helpers/png.js';
import { tempDir } from './helpers/temp.js';

const train = (await readMulti30k('train', 'de', 'en')).slice(0, 3000);
const val = (await readMulti30k('val', 'de', 'en')).slice(0, 100);

/** A small, fast run of the demo recipe. */
function run(out: string, overrides: Partial<TranslationRun> = {}): TranslationRun {
  return {
    ...trainPreset('demo'), model: { dModel: 64, dFF: 128, h: 4, encoderLayers: 1, decoderLayers: 1, dropout: 0.1, attentionDropout: 0.1, finalNorm: true, maxLen: 128 },
    vocabSize: 1200, batchTokens: 1024, warmup: 40, lrFactor: 2, maxMinutes: 0, evalEvery: 1000, bleuSentences: 0, checkpointEvery: 10,
    keepCheckpoints: 3, train, val, out, progress: false, log: () => {}, ...overrides,
  };
}

/** Records of train-log.jsonl. */
function logOf(dir: string): Array<Record<string, number>> {
  return readFileSync(join(dir, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
}

test('validation loss falls on Multi30k (short form of the main job)', async () => {
  const out = tempDir('aiayn-e2e-');
  const result = await trainTranslation(run(out, { maxSteps: 120, evalEvery: 60, checkpointEvery: 60, bleuSentences: 20 }));
  const valLosses = logOf(out).filter((r) => r['val_loss'] !== undefined).map((r) => r['val_loss']!);
  assert.equal(valLosses.length, 3, 'evaluated at steps 0, 60 and 120');
  assert.ok(valLosses[2]! < valLosses[0]! - 1.0, `val loss ${valLosses.map((v) => v.toFixed(3)).join(' -> ')} should fall by > 1 nat`);
  assert.ok(valLosses[2]! < valLosses[1]!, 'and keep falling');
  for (const f of ['config.json', 'tokenizer.json', 'weights.safetensors', 'train-log.jsonl', 'curves.html', 'curves.png']) assert.ok(readdirSync(out).includes(f), f);
  assert.match(readFileSync(join(out, 'curves.html'), 'utf8'), /<svg[\s\S]*val loss/);
  assert.deepEqual([decodePng(readFileSync(join(out, 'curves.png'))).width, decodePng(readFileSync(join(out, 'curves.png'))).height], [640, 620]);
  assert.equal(result.steps, 120);
  const { model, tokenizer } = await loadModelDir(out);
  assert.equal(model.training, false);
  assert.equal(tokenizer.vocabSize, model.config.srcVocab);
});

test('a resumed run continues bit-exactly: the same loss curve as an uninterrupted run', async () => {
  const straight = tempDir('aiayn-straight-');
  const resumed = tempDir('aiayn-resumed-');
  await trainTranslation(run(straight, { maxSteps: 30 }));
  await trainTranslation(run(resumed, { maxSteps: 20 }));
  await trainTranslation(run(resumed, { maxSteps: 30, resume: true }));
  const losses = (dir: string) => logOf(dir).filter((r) => r['loss'] !== undefined).map((r) => [r['step'], r['loss'], r['lr']]);
  assert.equal(losses(resumed).length, 30);
  assert.deepEqual(losses(resumed), losses(straight));
  const a = checkpointWeights(listCheckpoints(join(straight, 'checkpoints')).at(-1)!);
  const b = checkpointWeights(listCheckpoints(join(resumed, 'checkpoints')).at(-1)!);
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, name);
});

test('averaging checkpoints is the elementwise mean of their weights', async () => {
  const out = tempDir('aiayn-avg-');
  await trainTranslation(run(out, { maxSteps: 30 }));
  const paths = listCheckpoints(join(out, 'checkpoints'));
  assert.equal(paths.length, 3);
  const avg = averageCheckpoints(paths);
  const each = paths.map(checkpointWeights);
  for (const [name, t] of avg) {
    for (const i of [0, Math.floor(t.data.length / 2), t.data.length - 1]) {
      const mean = each.reduce((s, w) => s + w.get(name)!.data[i]!, 0) / each.length;
      assert.ok(Math.abs(t.data[i]! - mean) <= 1e-6 * Math.max(1, Math.abs(mean)), `${name}[${i}]`);
    }
  }
});
