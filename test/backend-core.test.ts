// A backend with only the core kernels (coreOnly: no fused paths) must give what the full backend gives: every
// fused path has a composed fallback. Trains the demo recipe's model for 50 steps (dropout on) on native with and
// without its fused paths and decodes greedily with both; a backend whose paths all refuse falls back the same way.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Backend, FusedPath } from '../src/backend/backend.js';
import { availableBackends, coreOnly, setBackend, tsBackend } from '../src/backend/index.js';
import type { LinePair } from '../src/data/files.js';
import { readMulti30k } from '../src/data/corpora.js';
import { PAD_ID, BOS_ID, EOS_ID } from '../src/data/bpe.js';
import { translate } from '../src/decode/translate.js';
import { loadModelDir } from '../src/io/model-dir.js';
import { trainPreset } from '../src/train/presets.js';
import { trainTranslation } from '../src/train/translation.js';
import { onBackend } from './helpers/backends.js';

const train = (await readMulti30k('train', 'de', 'en')).slice(0, 3000);
const val = (await readMulti30k('val', 'de', 'en')).slice(0, 40);
const full: Backend = availableBackends().includes('native') ? setBackend('native') : tsBackend;

/** What a run gives: its per-step losses, greedy translations of the validation sentences, the generator's weights. */
interface Run { losses: number[]; hyps: string[]; weights: Float32Array; }

/** Trains the demo recipe (its model preset: tiny, dropout 0.1, shared embeddings) on `backend`, then decodes. */
async function trainAndDecode(backend: Backend, steps: number, pairs: LinePair[], valPairs: LinePair[], vocabSize: number): Promise<Run> {
  const out = mkdtempSync(join(tmpdir(), 'aiayn-core-'));
  try {
    return await onBackend(backend, async () => {
      await trainTranslation({ ...trainPreset('demo'), vocabSize, maxSteps: steps, maxMinutes: 0, evalEvery: 1000, bleuSentences: 0,
        checkpointEvery: steps, train: pairs, val: valPairs, out, progress: false, log: () => {} });
      const losses = readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number })
        .flatMap((r) => (r.loss === undefined ? [] : [r.loss]));
      const { model, tokenizer } = await loadModelDir(out);
      const hyps = await translate(model, tokenizer, valPairs.map((p) => p.src), { special: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID } });
      return { losses, hyps, weights: model.generator.weight.toArray() as Float32Array };
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test(`the core kernels alone train 50 demo steps and decode as the full ${full.name} backend does`, async () => {
  const withFused = await trainAndDecode(full, 50, train, val, 1200);
  const core = await trainAndDecode(coreOnly(full), 50, train, val, 1200);
  assert.equal(core.losses.length, 50);
  core.losses.forEach((l, i) => assert.ok(Math.abs(l - withFused.losses[i]!) <= 1e-5 * Math.abs(withFused.losses[i]!),
    `step ${i + 1}: loss ${l} on the core kernels, ${withFused.losses[i]} with the fused paths`));
  // Adam divides by sqrt(v): weights whose gradients are ~0 move by up to lr whatever the rounding of those
  // gradients, so the weights are compared against their scale, the losses and translations exactly as above.
  let [worst, scale] = [0, 0];
  core.weights.forEach((w, i) => { worst = Math.max(worst, Math.abs(w - withFused.weights[i]!)); scale = Math.max(scale, Math.abs(w)); });
  assert.ok(worst <= 1e-3 * scale, `the generator's weights differ by ${worst} (largest weight ${scale}) after 50 steps`);
  assert.deepEqual(core.hyps, withFused.hyps, 'greedy translations of the validation sentences');
  assert.ok(withFused.hyps.some((h) => h.length > 0), 'the model says something after 50 steps');
});

test('a fused path that refuses its operands hands the op to the composed kernels', async () => {
  const refusing = <A>(): FusedPath<A> => ({ refuses: () => 'refused by this test', run: () => { throw new Error('a refused path ran'); } });
  const refusingAll: Backend = { ...full, fused: {
    addLayerNorm: refusing(), reluDropout: refusing(), linearCrossEntropy: refusing(),
    packedAttention: { scores: refusing(), backward: refusing() },
    decoderStep: { ...refusing(), bind: () => { throw new Error('a refused path was bound'); } },
  } };
  const [pairs, valPairs] = [train.slice(0, 500), val.slice(0, 5)];
  const core = await trainAndDecode(coreOnly(full), 5, pairs, valPairs, 800);
  const refused = await trainAndDecode(refusingAll, 5, pairs, valPairs, 800);
  assert.deepEqual(refused.losses, core.losses);
  assert.deepEqual(refused.hyps, core.hyps);
});
