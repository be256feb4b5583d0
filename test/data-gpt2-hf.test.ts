// An independent reader of our tokenizer.json: @huggingface/tokenizers (the tokenizer engine of
// @huggingface/transformers 4, offline, from the JSON we write) encodes all of tiny Shakespeare exactly as our GPT-2
// byte-level BPE does, and decodes it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer } from '@huggingface/tokenizers';
import { TINY_SHAKESPEARE_PATH } from '../src/data/corpora.js';
import { readText } from '../src/data/files.js';
import { Gpt2Tokenizer } from '../src/data/gpt2.js';

test('@huggingface/tokenizers reads our GPT-2 tokenizer.json and encodes tiny Shakespeare as we do', async (t) => {
  const ours = await Gpt2Tokenizer.bundled();
  const theirs = new Tokenizer(JSON.parse(ours.toTokenizerJson()), { model_max_length: 1024, add_bos_token: false, add_eos_token: false });
  const text = await readText(TINY_SHAKESPEARE_PATH);
  const want = ours.encode(text);
  const got: number[] = theirs.encode(text, { add_special_tokens: false }).ids;
  assert.equal(got.length, want.length);
  const first = got.findIndex((id, i) => id !== want[i]);
  assert.equal(first, -1, `first difference at token ${first}`);
  assert.equal(theirs.decode(got.slice(0, 200)), ours.decode(want.slice(0, 200)));
  t.diagnostic(`${text.length} characters, ${want.length} tokens, identical`);
});
