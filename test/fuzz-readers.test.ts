// The fuzzer's short form (scripts/fuzz.ts; the 10,000-case form is `npm run fuzz`): 100 mutated inputs per
// reader, fixed seed, each ending in a valid result or an error that names the file, none hanging. Then the
// crashes the fuzzer found, as regression tests.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Bpe } from '../src/data/bpe.js';
import { Gpt2Tokenizer } from '../src/data/gpt2.js';
import { showValue } from '../src/data/show.js';
import { readModelConfig } from '../src/io/model-dir.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { makeConfig, type TransformerConfig } from '../src/models/config.js';
import { fuzzReader } from '../scripts/fuzz.js';
import { gpt2Alphabet, TARGETS } from '../scripts/fuzz/targets.js';
import { tempDir } from './helpers/temp.js';

const DEEP = '['.repeat(20000) + ']'.repeat(20000);

for (const reader of TARGETS.keys()) {
  test(`fuzz ${reader}: 100 cases, no crash, no hang`, async () => {
    const r = await fuzzReader(reader, { cases: 100, seed: 7, timeoutMs: 20_000 });
    assert.deepEqual([...r.crashes, ...r.hangs], []);
    assert.equal(r.valid + r.clean, 100);
    assert.ok(r.valid > 0 && r.clean > 0, `both outcomes occur (valid ${r.valid}, clean ${r.clean})`);
  });
}

test('regression: a bad merges.txt line names the merges file given, not a fixed name', async () => {
  const dir = tempDir('aiayn-gpt2-');
  const vocab = Object.fromEntries(gpt2Alphabet().map((c, b) => [c, b]));
  writeFileSync(join(dir, 'v.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'm.txt'), 'a b c\n');
  await assert.rejects(Gpt2Tokenizer.loadVocabMerges(join(dir, 'v.json'), join(dir, 'm.txt')), new RegExp(`^DataError: ${join(dir, 'm.txt')}:1: expected two tokens`));
});

test('regression: two vocab.json tokens with the same id are refused (the round trip lost text)', () => {
  const vocab = { ...Object.fromEntries(gpt2Alphabet().map((c, b) => [c, b])), er: 256, in: 256 };
  assert.throws(() => Gpt2Tokenizer.fromVocabMerges(JSON.stringify(vocab), 'e r\n', 'v.json'), /^DataError: v\.json: token "in" has id 256, which another token has already$/);
});

test('regression: a config.json that is JSON null (or not an object) is a clean error naming the file', async () => {
  const dir = tempDir('aiayn-null-config-');
  for (const text of ['null', '[1]', '"x"']) {
    writeFileSync(join(dir, 'config.json'), text);
    assert.throws(() => readModelConfig(dir), new RegExp(`^Error: ${join(dir, 'config.json')}: not an aiayn model config`));
  }
});

test('regression: config fields of the wrong type are refused by validateConfig, not by a native kernel later', () => {
  const base = makeConfig('tiny');
  const bad = (patch: Record<string, unknown>) => () => makeConfig('tiny', patch as Partial<TransformerConfig>);
  assert.throws(bad({ layerNormEps: 'x' }), /layerNormEps must be a number in \(0, 1\), got "x"/);
  assert.throws(bad({ normFirst: 0 }), /normFirst must be true or false, got 0/);
  assert.throws(bad({ attention: 7 }), /attention must be one of "scaled-dot", "additive", "general", got 7/);
  assert.throws(bad({ dropout: '0.1' }), /dropout must be a number in \[0, 1\), got "0.1"/);
  assert.throws(bad({ seed: 0.5 }), /seed must be an integer, got 0.5/);
  assert.throws(bad({ dModel: JSON.parse(DEEP) }), /dModel must be a positive integer, got <too deeply nested>/);
  assert.equal(base.attention, 'scaled-dot');
});

test('regression: values nested 20,000 deep give clean errors (no stack overflow while describing them)', () => {
  assert.throws(() => Bpe.fromJSON({ format: 'aiayn-bpe', version: 1, specials: JSON.parse(DEEP), symbols: [], merges: [] }, 'tok.json'), /^DataError: tok\.json: specials must be/);
  const header = new TextEncoder().encode(`{"w":{"dtype":${DEEP},"shape":[1],"data_offsets":[0,4]}}`);
  const bytes = new Uint8Array(8 + header.length + 4);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
  bytes.set(header, 8);
  assert.throws(() => readSafetensors(bytes, 'w.safetensors'), /^Error: safetensors: w\.safetensors: tensor 'w': unknown or unsupported dtype <too deeply nested>/);
  assert.equal(showValue('x'.repeat(100), 10), '"xxxxxxxxx...');
});
