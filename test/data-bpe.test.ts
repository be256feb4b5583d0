// Tokenizer tests: the Sennrich BPE (learning, lossless round trips, JSON files) and GPT-2 byte-level BPE vs js-tiktoken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getEncoding } from 'js-tiktoken';
import { Bpe, BOS_ID, DataError, EOS_ID, Gpt2Tokenizer, PAD_ID, readMulti30k, readText, seededRandom, UNK_ID } from '../src/data/index.js';
import { tempDir } from './helpers/temp.js';

const SHAKESPEARE = fileURLToPath(new URL('../data/tinyshakespeare/input.txt.gz', import.meta.url));

/** Random strings built from pieces that stress pre-tokenizers: whitespace runs, emoji, ZWJ, marks, BOM, CJK, digits. */
function randomText(random: () => number, maxPieces = 12): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const codePoint = (lo: number, hi: number): string => String.fromCodePoint(lo + Math.floor(random() * (hi - lo + 1)));
  const makers: Array<() => string> = [
    () => pick(['a', 'The', 'man', 'Haus', 'straße', "'s", "'ll", "don't", 'ÉCOLE']),
    () => pick([' ', '  ', '   ', '\t', '\t\t ', '\n', '\r\n', ' \n ', '\u00a0', '\u3000', '\u2581', '\u2028']),
    () => pick(['😀', '👩\u200d👩\u200d👧\u200d👦', '🏳️\u200d🌈', '👍🏽', '🇩🇪', '\u200d', '\u200b']),
    () => pick(['e\u0301', 'a\u0308\u0323', '\u0301', 'n\u0303o', 'ก\u0e31']),
    () => '\ufeff',
    () => codePoint(0x4e00, 0x9fff) + codePoint(0x3040, 0x30ff),
    () => String(Math.floor(random() * 1e6)),
    () => pick(['.', ',', '!?', '...', '"', '(', ')', '--', '<|endoftext|>', '@@', '</w>', '\\']),
    () => { // any scalar value: BMP outside surrogates, or an astral code point
      const cp = Math.floor(random() * 0x10ffff);
      return String.fromCodePoint(cp >= 0xd800 && cp <= 0xdfff ? cp - 0x800 : cp);
    },
  ];
  let s = '';
  const n = Math.floor(random() * maxPieces);
  for (let i = 0; i < n; i++) s += pick(makers)();
  return s;
}

const small = (async () => {
  const pairs = await readMulti30k('val');
  return Bpe.learn(pairs.flatMap((p) => [p.src, p.tgt]), { vocabSize: 1500 });
})();

test('learning reaches the requested vocabulary size and is deterministic', async () => {
  const bpe = await small;
  assert.equal(bpe.vocabSize, 1500);
  const pairs = await readMulti30k('val');
  const again = Bpe.learn(pairs.flatMap((p) => [p.src, p.tgt]), { vocabSize: 1500 });
  assert.deepEqual(again.toJSON(), bpe.toJSON());
});

test('the first merge joins the most frequent pair, with the trailing space on the last character', () => {
  const bpe = Bpe.learn(['ab ab ab cd'], { merges: 1 });
  assert.equal(bpe.merges.length, 1);
  assert.deepEqual([...bpe.symbols].sort(), [' ', 'a', 'b', 'b ', 'c', 'd']);
  assert.equal(bpe.tokenText(bpe.vocabSize - 1), 'ab ');
  assert.deepEqual(bpe.encode('ab ab ').map((id) => bpe.tokenText(id)), ['ab ', 'ab ']);
  assert.deepEqual(bpe.encode('ab').map((id) => bpe.tokenText(id)), ['a', 'b']);
});

test('learning stops when no pair reaches the minimum frequency', () => {
  const bpe = Bpe.learn(['xy xy zw'], { merges: 10 });
  assert.equal(bpe.merges.length, 1);
  assert.throws(() => Bpe.learn(['abc'], { vocabSize: 10 }), /below the base vocabulary/);
});

test('special ids are pad 0, bos 1, eos 2, unk 3 and decode drops or marks them', async () => {
  const bpe = await small;
  assert.deepEqual([PAD_ID, BOS_ID, EOS_ID, UNK_ID].map((id) => bpe.tokenText(id)), ['<pad>', '<bos>', '<eos>', '<unk>']);
  const ids = bpe.encode('A dog.');
  assert.equal(bpe.decode([BOS_ID, ...ids, EOS_ID, PAD_ID, PAD_ID]), 'A dog.');
  assert.equal(bpe.decode([UNK_ID]), '\uFFFD');
  assert.throws(() => bpe.decode([bpe.vocabSize]), RangeError);
});

test('BPE: decode(encode(s)) === s for random Unicode strings (property)', async () => {
  const bpe = await small;
  const random = seededRandom(1234);
  for (let i = 0; i < 2000; i++) {
    const s = randomText(random);
    assert.equal(bpe.decode(bpe.encode(s)), s, `round trip failed for ${JSON.stringify(s)}`);
  }
  assert.equal(bpe.decode(bpe.encode('')), '');
});

test('unseen characters fall back to UTF-8 byte tokens', async () => {
  const bpe = await small;
  const ids = bpe.encode('𝄞');
  assert.deepEqual(ids.map((id) => bpe.tokenText(id)), ['<0xF0>', '<0x9D>', '<0x84>', '<0x9E>']);
});

test('save and load give the same tokenizer; bad files fail with the file name', async () => {
  const bpe = await small;
  const dir = tempDir('aiayn-bpe-');
  const path = join(dir, 'bpe.json');
  await bpe.save(path);
  const loaded = await Bpe.load(path);
  const text = 'Zwei junge Männer spielen Fußball. 🎉';
  assert.deepEqual(loaded.encode(text), bpe.encode(text));
  const json = JSON.parse(await readFile(path, 'utf8'));
  const cases: Array<[string, string, RegExp]> = [
    ['malformed.json', '{"format": "aiayn-bpe", ', /malformed\.json: malformed tokenizer JSON/],
    ['v2.json', JSON.stringify({ ...json, version: 2 }), /v2\.json: tokenizer format version 2 is not supported/],
    ['other.json', JSON.stringify({ model: 'x' }), /other\.json: not an aiayn-bpe tokenizer/],
    ['badmerge.json', JSON.stringify({ ...json, merges: [...json.merges, 5, 999999] }), /badmerge\.json: merge \d+ refers to ids/],
  ];
  for (const [name, content, message] of cases) {
    await writeFile(join(dir, name), content);
    await assert.rejects(Bpe.load(join(dir, name)), (err: Error) => err instanceof DataError && message.test(err.message));
  }
  await assert.rejects(Bpe.load(join(dir, 'missing.json')), /missing\.json: cannot read tokenizer/);
});

test('GPT-2: equals js-tiktoken gpt2 token for token on tiny Shakespeare', async () => {
  const gpt2 = await Gpt2Tokenizer.bundled();
  const text = await readText(SHAKESPEARE);
  assert.equal(text.length, 1115394);
  const ours = gpt2.encode(text);
  assert.deepEqual(ours, getEncoding('gpt2').encode(text, [], []));
  assert.equal(gpt2.decode(ours), text);
});

test('GPT-2: equals js-tiktoken and round-trips on adversarial Unicode (property)', async () => {
  const gpt2 = await Gpt2Tokenizer.bundled();
  const reference = getEncoding('gpt2');
  const random = seededRandom(99);
  const fixed = ["'s'S 'll's", ' \n\n  x ', '\r\n\r\n', '<|endoftext|>', '  1234567 ', 'a\u0301\u0301\u0301', '\ufeff\ufeff'];
  for (const s of [...fixed, ...Array.from({ length: 1500 }, () => randomText(random, 16))]) {
    const ours = gpt2.encode(s);
    assert.deepEqual(ours, reference.encode(s, [], []), `differs from tiktoken on ${JSON.stringify(s)}`);
    assert.equal(gpt2.decode(ours), s);
  }
  assert.equal(gpt2.vocabSize, 50257);
  assert.equal(gpt2.decode([gpt2.eotId]), '<|endoftext|>');
  assert.equal(gpt2.tokenText(gpt2.encode(' the')[0]!), 'Ġthe');
});

test('GPT-2: vocab.json + merges.txt load the same tokenizer as a tiktoken rank file', () => {
  // A toy vocabulary: bytes have ids 0-255, then the merges he, ll, hell, hello.
  const merged = ['he', 'll', 'hell', 'hello'];
  const ranks = [...Array.from({ length: 256 }, (_, b) => Buffer.from([b])), ...merged.map((m) => Buffer.from(m))]
    .map((bytes, id) => `${bytes.toString('base64')} ${id}`).join('\n');
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const vocab: Record<string, number> = {};
  let extra = 0;
  for (let b = 0; b < 256; b++) vocab[String.fromCodePoint(printable(b) ? b : 256 + extra++)] = b;
  merged.forEach((m, i) => { vocab[m] = 256 + i; });
  const fromRanks = Gpt2Tokenizer.fromTiktoken(ranks);
  const fromFiles = Gpt2Tokenizer.fromVocabMerges(JSON.stringify(vocab), '#version: 0.2\nh e\nl l\nhe ll\nhell o\n');
  for (const s of ['hello hell', 'shell', 'hellohello', ' é\n']) assert.deepEqual(fromFiles.encode(s), fromRanks.encode(s));
  assert.deepEqual(fromRanks.encode('hello'), [259]);
  assert.deepEqual(fromFiles.encode('shell'), [115, 258]);
  assert.throws(() => Gpt2Tokenizer.fromTiktoken('IQ== 0\nIQ== zero\n', 'bad.tiktoken'), /bad\.tiktoken:2:/);
  assert.throws(() => Gpt2Tokenizer.fromVocabMerges(JSON.stringify(vocab), 'h e\nx y\n'), /merges\.txt:2:/);
});
