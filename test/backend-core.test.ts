// A backend with only the core kernels (coreOnly: no fused paths) must give what the full backend gives: every
// fused path has a composed fallback. Trains the demo recipe's model for 50 steps (dropout on) on native with and
// without its fused paths and decodes greedily with both; also checks each guard's refusal falls back.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Backend, FusedPath } from '../src/backend/backend.js';
import { availableBackends, coreOnly, getBackend, setBackend, tsBackend } from '../src/backend/index.js';
import { readMulti30k } from '../src/data/corpora.js';
import { PAD_ID, BOS_ID, EOS_ID } from '../src/data/bpe.js';
import { translate } from '../src/decode/translate.js';
import { loadModelDir } from '../src/io/model-dir.js';
import { trainPreset } from '../src/train/presets.js';
import { trainTranslation } from '../src/train/translation.js';

const train = (await readMulti30k('train', 'de', 'en')).slice(0, 3000);
const val = (await readMulti30k('val', 'de', 'en')).slice(0, 40);
const full: Backend = availableBackends().includes('native') ? setBackend('native') : tsBackend;

/** Trains the demo model (its preset: tiny, dropout 0.1, shared embeddings) for 50 steps on `backend`; returns the loss log and the greedy translations of the validation sentences. */
async function trainAndDecode(backend: Backend): Promise<{ losses: number[]; hyps: string[]; weights: Float32Array }> {
  const out = mkdtempSync(join(tmpdir(), 'aiayn-core-'));
  const before = getBackend();
  setBackend(backend);
  try {
    await trainTranslation({ ...trainPreset('demo'), vocabSize: 1200, maxSteps: 50, maxMinutes: 0, evalEvery: 1000, bleuSentences: 0,
      checkpointEvery: 50, train, val, out, progress: false, log: () => {} });
    const losses = readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number })
      .flatMap((r) => (r.loss === undefined ? [] : [r.loss]));
    const { model, tokenizer } = await loadModelDir(out);
    const hyps = await translate(model, tokenizer, val.map((p) => p.src), { special: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID } });
    return { losses, hyps, weights: model.generator.weight.toArray() as Float32Array };
  } finally {
    setBackend(before);
    rmSync(out, { recursive: true, force: true });
  }
}

test(`the core kernels alone train 50 demo steps and decode as the full ${full.name} backend does`, async () => {
  const withFused = await trainAndDecode(full);
  const core = await trainAndDecode(coreOnly(full));
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
  const refusing = <A>(path: FusedPath<A> | undefined): FusedPath<A> => ({
    refuses: () => 'refused by this test',
    run: () => { throw new Error('a refused path ran'); },
  });
  const f = full.fused;
  const refusingAll: Backend = { ...full, fused: {
    addLayerNorm: refusing(f.addLayerNorm), reluDropout: refusing(f.reluDropout), linearCrossEntropy: refusing(f.linearCrossEntropy),
    packedAttention: { scores: refusing(f.packedAttention?.scores), backward: refusing(f.packedAttention?.backward) },
    decoderStep: refusing(f.decoderStep),
  } };
  const core = await trainAndDecodeShort(coreOnly(full));
  const refused = await trainAndDecodeShort(refusingAll);
  assert.deepEqual(refused, core);
});

/** Five steps: the losses and translations, for comparing guards (their arithmetic is the core kernels' either way). */
async function trainAndDecodeShort(backend: Backend): Promise<{ losses: number[]; hyps: string[] }> {
  const out = mkdtempSync(join(tmpdir(), 'aiayn-core-'));
  const before = getBackend();
  setBackend(backend);
  try {
    await trainTranslation({ ...trainPreset('demo'), vocabSize: 800, maxSteps: 5, maxMinutes: 0, evalEvery: 1000, bleuSentences: 0,
      checkpointEvery: 5, train: train.slice(0, 500), val: val.slice(0, 5), out, progress: false, log: () => {} });
    const losses = readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number })
      .flatMap((r) => (r.loss === undefined ? [] : [r.loss]));
    const { model, tokenizer } = await loadModelDir(out);
    const hyps = await translate(model, tokenizer, val.slice(0, 5).map((p) => p.src), { special: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID }, maxLenB: 5 });
    return { losses, hyps };
  } finally {
    setBackend(before);
    rmSync(out, { recursive: true, force: true });
  }
}
