// WordPiece and BERT's basic tokenizer: hand-checked cases (the examples of BERT's tokenization.py docstrings),
// a vocabulary learnt from Multi30k's English side, and tokenizer.json round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bertNormalize, bertPreTokenize } from '../src/data/bert-pretokenize.js';
import { readMulti30k } from '../src/data/corpora.js';
import { WORDPIECE_DEFAULTS, WordPiece } from '../src/data/wordpiece.js';
import { wordPieceFromJson, wordPieceToJson } from '../src/data/wordpiece-json.js';

const basic = (text: string): string[] => bertPreTokenize(bertNormalize(text, WORDPIECE_DEFAULTS));

test('basic tokenizer: lower-case, accents stripped, punctuation split, CJK one by one, controls dropped', () => {
  assert.deepEqual(basic(' \tHeLLo!how  \n Are yoU?  '), ['hello', '!', 'how', 'are', 'you', '?']); // tokenization_test.py
  assert.deepEqual(basic('Héllo, naïve café—ok'), ['hello', ',', 'naive', 'cafe', '—', 'ok']);
  assert.deepEqual(basic('ah\u535A\u63A8zz'), ['ah', '\u535A', '\u63A8', 'zz']);
  assert.deepEqual(basic('a\u0000b\u200bc\u00ad d'), ['abc', 'd']); // NUL, zero-width space (Cf) and soft hyphen (Cf) dropped
  assert.deepEqual(bertPreTokenize(bertNormalize('HäLLo', { ...WORDPIECE_DEFAULTS, lowercase: false, stripAccents: false })), ['HäLLo']);
  assert.deepEqual(basic("don't $5.00"), ['don', "'", 't', '$', '5', '.', '00']);
});

test('WordPiece: greedy longest match first with ## continuations; an uncoverable word is [UNK]', () => {
  const wp = new WordPiece(['[UNK]', '[CLS]', '[SEP]', 'want', '##want', '##ed', 'wa', 'un', 'runn', '##ing', ',']);
  assert.deepEqual(wp.tokenize('unwanted running'), ['un', '##want', '##ed', 'runn', '##ing']); // tokenization_test.py
  assert.deepEqual(wp.tokenize('unwantedX running'), ['[UNK]', 'runn', '##ing']);
  assert.deepEqual(wp.tokenize(''), []);
  assert.deepEqual(wp.encodeForModel('want', 'running'), { ids: [1, 3, 2, 8, 9, 2], tokenTypes: [0, 0, 0, 1, 1, 1] });
  assert.equal(wp.decode([1, 7, 4, 5, 10, 8, 9, 2]), 'unwanted, running');
  assert.deepEqual(new WordPiece(['[UNK]', 'a'], { maxInputCharsPerWord: 3 }).tokenize('aaaa aaa'), ['[UNK]', '[UNK]']);
});

test('a vocabulary learnt on Multi30k English covers its validation split; tokenizer.json round-trips', async () => {
  const train = (await readMulti30k('train')).map((p) => p.src);
  const val = (await readMulti30k('val')).map((p) => p.src);
  const wp = WordPiece.learn(train, { vocabSize: 3000 });
  assert.equal(wp.vocab.length, 3000);
  assert.deepEqual(wp.vocab.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  let tokens = 0;
  let unknown = 0;
  for (const line of val) {
    const pieces = wp.tokenize(line);
    tokens += pieces.length;
    unknown += pieces.filter((p) => p === '[UNK]').length;
    if (!pieces.includes('[UNK]')) assert.equal(pieces.join(' ').replaceAll(' ##', ''), basic(line).join(' '), line); // pieces spell the words
  }
  assert.ok(unknown / tokens < 0.002, `${unknown} of ${tokens} validation tokens are [UNK]`);
  assert.ok(tokens / val.length < 16, `${(tokens / val.length).toFixed(1)} tokens per caption`);
  const back = wordPieceFromJson(wordPieceToJson(wp));
  assert.deepEqual(back.vocab, wp.vocab);
  for (const line of val.slice(0, 200)) assert.deepEqual(back.encode(line), wp.encode(line));
});

test('tokenizer.json of another kind is refused with a clear error', () => {
  const bpe = JSON.stringify({ model: { type: 'BPE', vocab: {}, merges: [] }, pre_tokenizer: { type: 'ByteLevel' } });
  assert.throws(() => wordPieceFromJson(bpe, 'x.json'), /x\.json: model type "BPE" is not supported/);
  const wp = JSON.parse(wordPieceToJson(new WordPiece(['[UNK]', '[CLS]', '[SEP]', 'a']))) as Record<string, unknown>;
  assert.throws(() => wordPieceFromJson(JSON.stringify({ ...wp, pre_tokenizer: { type: 'Whitespace' } })), /pre_tokenizer "Whitespace" is not supported/);
  assert.throws(() => wordPieceFromJson('{'), /not JSON/);
});
