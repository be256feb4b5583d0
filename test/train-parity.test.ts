// Same results everywhere: 20 full training steps of the demo model (the `demo` preset's tiny Transformer, dropout
// on, Adam on the §5.3 schedule) on the `ts` and the `native` backend agree within 1e-5 in the losses and every
// weight but the attention key biases (see below) (batches of ~80 target tokens and a 600-token vocabulary, so that the ts backend takes seconds).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { availableBackends, getBackend, setBackend } from '../src/backend/index.js';
import { Bpe, PAD_ID } from '../src/data/bpe.js';
import { TokenBatcher } from '../src/data/batching.js';
import { readMulti30k } from '../src/data/corpora.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { tidy } from '../src/tensor/memory.js';
import { tensor } from '../src/tensor/ops/create.js';
import { Adam } from '../src/train/optim.js';
import { trainPreset } from '../src/train/presets.js';
import { noamSchedule } from '../src/train/schedule.js';
import { encodeExamples } from '../src/train/translation.js';

const STEPS = 20;
const pairs = (await readMulti30k('train', 'de', 'en')).slice(0, 1000);
const bpe = Bpe.learn(pairs.flatMap((p) => [p.src, p.tgt]), { vocabSize: 600 });
const demo = trainPreset('demo');
const batcher = new TokenBatcher(encodeExamples(pairs, bpe), { maxSrcTokens: 80, maxTgtTokens: 80, seed: 1 });
const plan = batcher.plan(0).slice(0, STEPS);

/** Trains 20 steps on `backend`; returns the losses and the final weights. */
function train(backend: 'ts' | 'native'): { losses: number[]; weights: Map<string, Float32Array> } {
  setBackend(backend);
  const model = new Transformer(makeConfig(demo.modelPreset, { ...demo.model, srcVocab: bpe.vocabSize, tgtVocab: bpe.vocabSize, seed: demo.seed }));
  const config = model.config;
  const optimizer = new Adam(model.parameters(), { lr: noamSchedule({ dModel: config.dModel, warmup: demo.warmup, factor: demo.lrFactor }) });
  const losses = plan.map((indices) => tidy(() => {
    const b = batcher.batch(indices);
    const loss = model.loss(tensor(b.src, [b.B, b.S], 'int32'), tensor(b.tgtIn, [b.B, b.T], 'int32'), tensor(b.tgtOut, [b.B, b.T], 'int32'), { padId: PAD_ID, labelSmoothing: config.labelSmoothing });
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return loss.item();
  }));
  return { losses, weights: new Map([...model.stateDict()].map(([name, t]) => [name, t.toArray() as Float32Array])) };
}

test('20 demo-config training steps with dropout agree within 1e-5 on ts and native', { skip: !availableBackends().includes('native') && 'the native backend is not built' }, () => {
  const before = getBackend().name;
  try {
    assert.ok(demo.model.dropout! > 0 && demo.model.attentionDropout! > 0, 'dropout is on');
    const ts = train('ts');
    const native = train('native');
    ts.losses.forEach((l, i) => assert.ok(Math.abs(l - native.losses[i]!) <= 1e-5, `step ${i + 1}: loss ts ${l}, native ${native.losses[i]}`));
    assert.ok(ts.losses[STEPS - 1]! < ts.losses[0]! - 0.2, `the model learns: ${ts.losses[0]} -> ${ts.losses[STEPS - 1]}`);
    // The key bias is the exception: softmax ignores a constant added to every score, so its gradient is 0 in exact
    // arithmetic and rounding noise in practice, which Adam (eps 1e-9) scales up to a step of about the learning
    // rate, in a direction that depends on how each backend rounds. Everything else agrees within 1e-5.
    const lrSum = Array.from({ length: STEPS }, (_, i) => noamSchedule({ dModel: 128, warmup: demo.warmup, factor: demo.lrFactor }).rate(i + 1)).reduce((x, y) => x + y);
    const worst = { other: { diff: 0, at: '' }, keyBias: { diff: 0, at: '' } };
    for (const [name, w] of ts.weights) {
      const v = native.weights.get(name)!;
      for (let i = 0; i < w.length; i++) {
        const kind = name.endsWith('in_proj_bias') && Math.floor(3 * i / w.length) === 1 ? 'keyBias' : 'other';
        const diff = Math.abs(w[i]! - v[i]!);
        if (!(diff <= worst[kind].diff)) worst[kind] = { diff, at: `${name}[${i}]` };
      }
    }
    assert.ok(worst.other.diff <= 1e-5, `largest weight difference ${worst.other.diff} at ${worst.other.at}`);
    assert.ok(worst.keyBias.diff <= 2 * lrSum, `key bias difference ${worst.keyBias.diff} at ${worst.keyBias.at}, more than twice the summed learning rate ${lrSum}`);
    console.log(`ts vs native after ${STEPS} steps: largest loss difference ${Math.max(...ts.losses.map((l, i) => Math.abs(l - native.losses[i]!)))}, weights ${worst.other.diff} (${worst.other.at}), key biases ${worst.keyBias.diff} (${worst.keyBias.at}; summed lr ${lrSum})`);
  } finally {
    setBackend(before as 'ts' | 'native');
  }
});
