// BERT's batches (Devlin et al. 2019, §3.1): padding, and the MLM corruption's proportions (15% chosen; of
// those 80% [MASK], 10% random, 10% unchanged), specials never chosen; and the replaced-word task's labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskForMlm, padBatch } from '../src/data/bert-batch.js';
import { seededRandom } from '../src/data/random.js';
import { replacedWordTask } from '../src/data/replaced-word.js';

test('padBatch pads rows to the longest with the pad id, token types beside', () => {
  const b = padBatch([[2, 7, 3], [2, 3]], 0, [[0, 0, 0], [0, 1]]);
  assert.deepEqual([...b.ids], [2, 7, 3, 2, 3, 0]);
  assert.deepEqual([...b.tokenTypes], [0, 0, 0, 0, 1, 0]);
  assert.equal(b.s, 3);
});

test('maskForMlm: 15% of ordinary tokens chosen, 80/10/10, specials and padding never, same draws for a seed', () => {
  const rows = Array.from({ length: 400 }, (_, i) => [2, ...Array.from({ length: 48 }, (_, j) => 10 + ((i * 31 + j * 7) % 90)), 3]);
  const batch = padBatch([...rows, [2, 3]], 0);
  const opts = { maskId: 4, specialIds: new Set([0, 1, 2, 3, 4]), firstRandomId: 5, vocabSize: 100 };
  const { input, labels } = maskForMlm(batch, opts, seededRandom(7));
  let chosen = 0, masked = 0, kept = 0;
  labels.forEach((l, k) => {
    if (l < 0) { assert.equal(input[k], batch.ids[k]); return; }
    assert.ok(!opts.specialIds.has(batch.ids[k]!), 'a special token was chosen');
    chosen++;
    if (input[k] === 4) masked++;
    else if (input[k] === l) kept++;
    else assert.ok(input[k]! >= 5 && input[k]! < 100);
  });
  const ordinary = 400 * 48; // about 2,900 chosen: a proportion of 0.8 has a standard deviation of 0.0075
  assert.ok(Math.abs(chosen / ordinary - 0.15) < 0.01, `chosen ${chosen / ordinary}`);
  assert.ok(Math.abs(masked / chosen - 0.8) < 0.03, `masked ${masked / chosen}`);
  assert.ok(Math.abs(kept / chosen - 0.1 - 0.1 / 95) < 0.03, `kept ${kept / chosen}`); // a random draw may hit the same token
  assert.equal(labels.slice(400 * 50).filter((l) => l >= 0).length, 0, 'the row of specials only has no target');
  assert.deepEqual(maskForMlm(batch, opts, seededRandom(7)).labels, labels);
  const one = maskForMlm(padBatch([[2, 50, 3]], 0), { ...opts, probability: 0 }, seededRandom(1));
  assert.deepEqual([...one.labels], [-100, 50, -100], 'a row where nothing was drawn gets one target');
});

test('replacedWordTask: about half replaced, exactly one word differs, punctuation kept', () => {
  const lines = Array.from({ length: 400 }, (_, i) => `A ${['dog', 'man', 'girl', 'cat'][i % 4]} runs in the ${['park', 'snow', 'street'][i % 3]}.`);
  const rows = replacedWordTask(lines, 3);
  const replaced = rows.filter((r) => r.label === 'replaced');
  assert.ok(replaced.length > 160 && replaced.length < 240, `${replaced.length} of 400 replaced`);
  rows.forEach((r, i) => {
    const a = lines[i]!.split(' ');
    const b = r.text.split(' ');
    assert.equal(b.length, a.length);
    assert.equal(a.filter((w, k) => w !== b[k]).length, r.label === 'replaced' ? 1 : 0, `${lines[i]} -> ${r.text}`);
    assert.ok(b.at(-1)!.endsWith('.'));
  });
  assert.deepEqual(replacedWordTask(lines, 3), rows);
});
