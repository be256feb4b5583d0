// The two tasks of BERT (Devlin et al. 2019): pretraining by masked language modelling (§3.1, Task #1; the
// next-sentence task is left out, as RoBERTa, Liu et al. 2019, §4.2, found it unhelpful) and fine-tuning a
// sequence classifier (§3.2, §4.1). Each epoch visits the examples in a seeded shuffled order; the MLM masks of
// batch i of epoch e are drawn from a seed of their own, so a resumed run sees the same batches.

import { maskForMlm, padBatch, type PaddedBatch } from '../data/bert-batch.js';
import { mixSeed, seededRandom, shuffleInPlace } from '../data/random.js';
import type { EncoderTokenizer } from '../data/encoder-tokenizer.js';
import type { Bert } from '../models/bert.js';
import { noGrad } from '../tensor/autograd.js';
import { tidy } from '../tensor/memory.js';
import { tensor } from '../tensor/ops/create.js';
import type { EncoderTask } from './encoder-loop.js';

/** One labelled example: token ids ([CLS] ... [SEP], or RoBERTa's <s> ... </s>) and a label index. */
export interface LabelledIds { ids: readonly number[]; label: number; }

/** The example indices of batch `index` of `epoch` (a seeded permutation per epoch). */
function batchIndices(n: number, batchSize: number, seed: number, epoch: number, index: number): number[] {
  const order = shuffleInPlace(Array.from({ length: n }, (_, i) => i), seededRandom(mixSeed(seed, epoch)));
  return order.slice(index * batchSize, (index + 1) * batchSize);
}

/** The int32 tensors of a padded batch. */
function asTensors(p: PaddedBatch, ids = p.ids) {
  return { ids: tensor(ids, [p.b, p.s], 'int32'), tokenTypes: tensor(p.tokenTypes, [p.b, p.s], 'int32') };
}

/** Masked-LM pretraining on rows of ids; validation: loss and accuracy on masked positions, masks from a fixed seed. */
export function mlmTask(model: Bert, tokenizer: EncoderTokenizer, train: ReadonlyArray<readonly number[]>, val: ReadonlyArray<readonly number[]>, o: { batchSize: number; seed: number }): EncoderTask {
  const pad = model.config.padId;
  const mask = { maskId: tokenizer.maskId, specialIds: tokenizer.specialIds, firstRandomId: tokenizer.ordinaryIds[0], vocabSize: tokenizer.ordinaryIds[1] };
  const valBatches = Array.from({ length: Math.ceil(val.length / o.batchSize) }, (_, k) => {
    const p = padBatch(val.slice(k * o.batchSize, (k + 1) * o.batchSize), pad);
    return { p, m: maskForMlm(p, mask, seededRandom(mixSeed(o.seed, 0xfa1, k))) };
  });
  return {
    batchesPerEpoch: Math.ceil(train.length / o.batchSize),
    loss(epoch, index) {
      const p = padBatch(batchIndices(train.length, o.batchSize, o.seed, epoch, index).map((i) => train[i]!), pad);
      const m = maskForMlm(p, mask, seededRandom(mixSeed(o.seed, epoch, index)));
      const t = asTensors(p, m.input);
      return { loss: model.mlmLoss(t.ids, tensor(m.labels, [p.b, p.s], 'int32'), { tokenTypes: t.tokenTypes }), units: m.labels.filter((l) => l >= 0).length };
    },
    async evaluate() {
      let loss = 0, correct = 0, count = 0;
      for (const { p, m } of valBatches) {
        const positions: number[] = [];
        m.labels.forEach((l, k) => { if (l >= 0) positions.push(k); });
        const logits = tidy(() => noGrad(() => model.mlmLogitsAt(tensor(m.input, [p.b, p.s], 'int32'), positions))); // (K, V)
        const v = model.config.vocabSize;
        const data = await logits.data();
        logits.dispose();
        positions.forEach((k, row0) => {
          const label = m.labels[k]!;
          const row = data.subarray(row0 * v, (row0 + 1) * v);
          let best = 0, max = -Infinity, sum = 0;
          for (let j = 0; j < v; j++) if (row[j]! > max) { max = row[j]!; best = j; }
          for (let j = 0; j < v; j++) sum += Math.exp(row[j]! - max);
          loss += Math.log(sum) + max - row[label]!;
          correct += best === label ? 1 : 0;
          count++;
        });
      }
      return { val_loss: loss / count, val_acc: correct / count };
    },
  };
}

/** Class probabilities (softmax of the classifier's logits) of rows of ids, in batches, the model in eval mode. */
export async function classProbabilities(model: Bert, rows: ReadonlyArray<readonly number[]>, batchSize = 64): Promise<number[][]> {
  const out: number[][] = [];
  const n = model.config.numLabels;
  for (let k = 0; k < rows.length; k += batchSize) {
    const p = padBatch(rows.slice(k, k + batchSize), model.config.padId);
    const probs = tidy(() => noGrad(() => model.classify(tensor(p.ids, [p.b, p.s], 'int32')).softmax(-1)));
    const data = await probs.data();
    probs.dispose();
    for (let i = 0; i < p.b; i++) out.push(Array.from(data.subarray(i * n, (i + 1) * n)));
  }
  return out;
}

/** Held-out cross entropy and accuracy of a classifier on labelled ids. */
export async function classificationMetrics(model: Bert, examples: readonly LabelledIds[]): Promise<{ val_loss: number; val_acc: number }> {
  const probs = await classProbabilities(model, examples.map((e) => e.ids));
  let loss = 0, correct = 0;
  probs.forEach((p, i) => {
    const label = examples[i]!.label;
    loss -= Math.log(Math.max(p[label]!, 1e-30));
    correct += p.indexOf(Math.max(...p)) === label ? 1 : 0;
  });
  return { val_loss: loss / examples.length, val_acc: correct / examples.length };
}

/** Fine-tuning a sequence classifier (§4.1): cross entropy of the pooled [CLS] state's class logits. */
export function classificationTask(model: Bert, train: readonly LabelledIds[], val: readonly LabelledIds[], o: { batchSize: number; seed: number }): EncoderTask {
  return {
    batchesPerEpoch: Math.ceil(train.length / o.batchSize),
    loss(epoch, index) {
      const batch = batchIndices(train.length, o.batchSize, o.seed, epoch, index).map((i) => train[i]!);
      const p = padBatch(batch.map((e) => e.ids), model.config.padId);
      const labels = tensor(Int32Array.from(batch, (e) => e.label), [p.b], 'int32');
      return { loss: model.classificationLoss(tensor(p.ids, [p.b, p.s], 'int32'), labels), units: p.b };
    },
    evaluate: () => classificationMetrics(model, val),
  };
}
