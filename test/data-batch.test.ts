// Batching tests: token caps, padding and masks, per-epoch seeded shuffles, and the streaming batcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BOS_ID, Bpe, causalMask, encodePairs, EOS_ID, PAD_ID, readParallel, seededRandom, streamBatches, TokenBatcher,
  multi30kPath, type Example, type TranslationBatch,
} from '../src/data/index.js';

function randomExamples(n: number, seed: number): Example[] {
  const random = seededRandom(seed);
  const ids = (): Int32Array => Int32Array.from({ length: 1 + Math.floor(random() * 40) }, () => 4 + Math.floor(random() * 100));
  return Array.from({ length: n }, () => ({ src: ids(), tgt: ids() }));
}

const row = (data: Int32Array | Uint8Array, r: number, width: number): number[] => [...data.subarray(r * width, (r + 1) * width)];

test('batches respect the token caps and hold every example once per epoch', () => {
  const examples = randomExamples(500, 1);
  const batcher = new TokenBatcher(examples, { maxSrcTokens: 300, maxTgtTokens: 250, seed: 3 });
  const seen: number[] = [];
  for (const b of batcher.batches(0)) {
    assert.ok(b.B * b.S <= 300 && b.B * b.T <= 250, `batch ${b.B}x${b.S}/${b.T} is over the caps`);
    seen.push(...b.indices);
  }
  assert.deepEqual(seen.sort((a, b) => a - b), examples.map((_, i) => i));
});

test('rows are padded: src = ids eos, tgtIn = bos ids, tgtOut = ids eos, masks mark real tokens', () => {
  const examples: Example[] = [{ src: [10, 11, 12], tgt: [20] }, { src: [13], tgt: [21, 22, 23] }];
  const [b] = [...new TokenBatcher(examples).batches(0)] as [TranslationBatch];
  assert.equal(b.B, 2);
  assert.equal(b.S, 4);
  assert.equal(b.T, 4);
  const r0 = b.indices.indexOf(0), r1 = b.indices.indexOf(1);
  assert.deepEqual(row(b.src, r0, 4), [10, 11, 12, EOS_ID]);
  assert.deepEqual(row(b.src, r1, 4), [13, EOS_ID, PAD_ID, PAD_ID]);
  assert.deepEqual(row(b.tgtIn, r0, 4), [BOS_ID, 20, PAD_ID, PAD_ID]);
  assert.deepEqual(row(b.tgtOut, r0, 4), [20, EOS_ID, PAD_ID, PAD_ID]);
  assert.deepEqual(row(b.tgtIn, r1, 4), [BOS_ID, 21, 22, 23]);
  assert.deepEqual(row(b.tgtOut, r1, 4), [21, 22, 23, EOS_ID]);
  assert.deepEqual(row(b.srcMask, r1, 4), [1, 1, 0, 0]);
  assert.deepEqual(row(b.tgtMask, r0, 4), [1, 1, 0, 0]);
  assert.equal(b.srcTokens, 6);
  assert.equal(b.tgtTokens, 6);
  assert.deepEqual([...causalMask(3)], [1, 0, 0, 1, 1, 0, 1, 1, 1]);
});

test('the same seed gives the same batches; another epoch or seed reshuffles', () => {
  const examples = randomExamples(300, 2);
  const plan = (seed: number, epoch: number): number[][] => new TokenBatcher(examples, { maxSrcTokens: 200, maxTgtTokens: 200, seed }).plan(epoch);
  assert.deepEqual(plan(5, 0), plan(5, 0));
  assert.notDeepEqual(plan(5, 1), plan(5, 0));
  assert.notDeepEqual(plan(6, 0), plan(5, 0));
});

test('an example longer than the cap gets a batch of its own', () => {
  const long: Example = { src: new Int32Array(50).fill(7), tgt: [8] };
  const batches = [...new TokenBatcher([long, { src: [1], tgt: [2] }], { maxSrcTokens: 10, maxTgtTokens: 10 }).batches(0)];
  assert.deepEqual(batches.map((b) => b.B).sort(), [1, 1]);
});

test('streaming: batches a corpus read and encoded on the fly, reproducibly', async () => {
  const bpe = Bpe.learn(['a small dog runs', 'ein kleiner Hund rennt'], { merges: 20 });
  const stream = (): AsyncIterable<Example> => encodePairs(readParallel(multi30kPath('val', 'en'), multi30kPath('val', 'de')), bpe);
  const options = { maxSrcTokens: 2000, maxTgtTokens: 2000, seed: 1, bufferSize: 300 };
  const first: TranslationBatch[] = [];
  for await (const b of streamBatches(stream(), options)) first.push(b);
  const again: TranslationBatch[] = [];
  for await (const b of streamBatches(stream(), options)) again.push(b);
  assert.deepEqual(again.map((b) => [...b.src]), first.map((b) => [...b.src]));
  assert.equal(first.reduce((n, b) => n + b.B, 0), 1014);
  assert.ok(first.every((b) => b.B * b.S <= 2000 && b.B * b.T <= 2000));
});
