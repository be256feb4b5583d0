// The annotated-transformer's end-to-end check: a small Transformer learns to copy random integer
// sequences. Trained with the paper's recipe (Adam 0.9/0.98/1e-9, warmup schedule, label smoothing), greedy
// decoding on fresh sequences must reproduce >= 99% of the tokens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { greedyDecode, TransformerDecoder } from '../src/decode/index.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { Rng, tensor, tidy } from '../src/tensor/index.js';
import { labelSmoothedLoss } from '../src/train/loss.js';
import { Adam } from '../src/train/optim.js';
import { noamSchedule } from '../src/train/schedule.js';

const PAD = 0; const BOS = 1; const EOS = 2; const V = 11; const LEN = 8; const BATCH = 32; const STEPS = 700;

/** A batch of random sequences over tokens 3..V-1: src = x + eos, tgtIn = bos + x, tgtOut = x + eos. */
function copyBatch(rng: Rng, n: number) {
  const seqs = Array.from({ length: n }, () => Array.from({ length: LEN }, () => 3 + rng.int(V - 3)));
  const src = seqs.flatMap((s) => [...s, EOS]);
  const tgtIn = seqs.flatMap((s) => [BOS, ...s]);
  return { seqs, src: tensor(src, [n, LEN + 1], 'int32'), tgtIn: tensor(tgtIn, [n, LEN + 1], 'int32'), tgtOut: tensor(src, [n, LEN + 1], 'int32') };
}

test('a Transformer learns to copy random sequences (>= 99% token accuracy, greedy)', async () => {
  const model = new Transformer(makeConfig('tiny', {
    srcVocab: V, tgtVocab: V, dModel: 32, dFF: 64, h: 2, encoderLayers: 2, decoderLayers: 2, dropout: 0, attentionDropout: 0,
    finalNorm: true, maxLen: 32, seed: 3,
  }));
  const optimizer = new Adam(model.parameters(), { lr: noamSchedule({ dModel: 32, warmup: 100, factor: 1 }) });
  const rng = new Rng(11);
  const started = performance.now();
  let loss = NaN;
  for (let step = 0; step < STEPS; step++) {
    loss = tidy(() => {
      const b = copyBatch(rng, BATCH);
      const l = labelSmoothedLoss(model.forward(b.src, b.tgtIn, PAD), b.tgtOut, { eps: 0.1, padId: PAD });
      l.backward();
      optimizer.step();
      optimizer.zeroGrad();
      return l.item();
    });
  }
  model.eval();
  const test = copyBatch(new Rng(999), 200);
  const decoder = new TransformerDecoder(model, test.seqs.map((s) => [...s, EOS]), PAD);
  const out = await greedyDecode(decoder, test.seqs.length, { bos: BOS, eos: EOS, maxLen: LEN + 5 });
  decoder.dispose();
  let correct = 0;
  test.seqs.forEach((s, i) => s.forEach((tok, j) => { if (out[i]![j] === tok) correct++; }));
  const accuracy = correct / (test.seqs.length * LEN);
  const seconds = (performance.now() - started) / 1000;
  console.log(`copy task: token accuracy ${accuracy.toFixed(4)}, loss ${loss.toFixed(3)}, ${seconds.toFixed(1)} s`);
  assert.ok(accuracy >= 0.99, `token accuracy ${accuracy.toFixed(4)} after ${STEPS} steps (final loss ${loss.toFixed(3)}, ${seconds.toFixed(1)} s)`);
});
