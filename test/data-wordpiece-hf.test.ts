// Our WordPiece tokenizer.json read by Hugging Face's own JavaScript tokenizer (@huggingface/tokenizers, the
// tokenization engine of @huggingface/transformers 4): ids, token types and decoding agree with ours on every
// English line of Multi30k (all six splits) and on inputs that exercise the basic tokenizer's corners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer } from '@huggingface/tokenizers';
import { MULTI30K_SPLITS, readMulti30k } from '../src/data/corpora.js';
import { WordPiece } from '../src/data/wordpiece.js';
import { wordPieceToJson } from '../src/data/wordpiece-json.js';

test('@huggingface/tokenizers encodes Multi30k English exactly as we do from our tokenizer.json', async () => {
  const wp = WordPiece.learn((await readMulti30k('train')).map((p) => p.src), { vocabSize: 3000 });
  const hf = new Tokenizer(JSON.parse(wordPieceToJson(wp)) as object, {});
  let lines = 0;
  for (const split of MULTI30K_SPLITS) {
    for (const { src } of await readMulti30k(split)) {
      assert.deepEqual(hf.encode(src).ids, wp.encodeForModel(src).ids, src);
      lines++;
    }
  }
  assert.equal(lines, 33546);
  const corners = ['Café NAÏVE — “quoted”… ok?', 'ah\u535A\u63A8zz 東京', 'tab\there\u0000nul\u200bzw', 'x'.repeat(101) + ' y', 'don\'t $5.00 (a/b) #1', '☃ ∞ 🙂'];
  for (const text of corners) assert.deepEqual(hf.encode(text).ids, wp.encodeForModel(text).ids, text);
  const pair = hf.encode('A dog.', { text_pair: 'It runs!', return_token_type_ids: true });
  const ours = wp.encodeForModel('A dog.', 'It runs!');
  assert.deepEqual([pair.ids, pair.token_type_ids], [ours.ids, ours.tokenTypes]);
  const ids = wp.encode("A man, in an orange hat, isn't starring.");
  assert.equal(hf.decode(ids), wp.decode(ids));
});
