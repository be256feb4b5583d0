// RoBERTa's byte-level BPE tokenizer (src/data/roberta-bpe.ts): merges learnt on a corpus small enough to count by
// hand; @huggingface/tokenizers (the tokenizer engine of @huggingface/transformers 4), reading our tokenizer.json and
// tokenizer_config.json, encodes and decodes every English line of Multi30k exactly as we do, specials included;
// tokenizer.json reads back to the same file; unsupported files are refused by name; and `aiayn train-mlm` on
// roberta-tiny learns this tokenizer, writes it beside the model, resumes, and finetune / classify load it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { main } from '../src/cli/main.js';
import { MULTI30K_SPLITS, readMulti30k } from '../src/data/corpora.js';
import { encoderTokenizerFromJson } from '../src/data/encoder-tokenizer.js';
import { RobertaTokenizer } from '../src/data/roberta-bpe.js';
import { WordPiece } from '../src/data/wordpiece.js';
import { wordPieceToJson } from '../src/data/wordpiece-json.js';

test('learnt merges and ids follow RoBERTa\'s layout (counted by hand)', () => {
  // Pre-tokens: "ab" once, " ab" twice, "abc" once. Pair counts: (a,b) 4, (' ',a) 2, (b,c) 1. Merge 1: a b -> "ab";
  // then (' ',ab) 2, (ab,c) 1: merge 2: Ġ ab -> " ab"; (ab,c) is under minFrequency 2, so learning stops early.
  const tok = RobertaTokenizer.learn(['ab ab ab', 'abc'], { vocabSize: 300 });
  assert.equal(tok.vocabSize, 4 + 256 + 2 + 1);
  assert.deepEqual([0, 1, 2, 3, 262].map((id) => tok.tokenText(id)), ['<s>', '<pad>', '</s>', '<unk>', '<mask>']);
  assert.deepEqual([tok.clsId, tok.padId, tok.sepId, tok.maskId, tok.ordinaryIds], [0, 1, 2, 262, [4, 262]]);
  assert.deepEqual([4, 5, 259, 260, 261].map((id) => tok.tokenText(id)), ['!', '"', '\u0143', 'ab', 'Ġab']); // bytes in stand-in order
  const c = 4 + 'c'.charCodeAt(0) - '!'.charCodeAt(0);
  assert.deepEqual(tok.encode('ab abc'), [260, 261, c]);
  assert.deepEqual(tok.encodeForModel('ab', 'ab ab'), { ids: [0, 260, 2, 2, 260, 261, 2], tokenTypes: [0, 0, 0, 0, 0, 0, 0] });
  assert.deepEqual(tok.encodeForModel('ab ab ab ab', 'ab', 7).ids, [0, 260, 261, 2, 2, 260, 2]); // longest first: 4 + 1 -> 2 + 1
  assert.deepEqual(tok.encodeForModel('ab ab', undefined, 3).ids, [0, 260, 2]);
  assert.throws(() => tok.encodeForModel('ab', 'ab', 3), /no room for the special tokens/);
  const json = JSON.parse(tok.toTokenizerJson()) as { model: { merges: string[] } };
  assert.deepEqual(json.model.merges, ['a b', 'Ġ ab']);
  assert.throws(() => RobertaTokenizer.learn([], { vocabSize: 100 }), /vocabSize must be an integer >= 261/);
});

test('@huggingface/tokenizers encodes and decodes Multi30k English exactly as we do from our tokenizer.json', async (t) => {
  const ours = RobertaTokenizer.learn((await readMulti30k('train')).map((p) => p.src), { vocabSize: 3000 });
  const theirs = new Tokenizer(JSON.parse(ours.toTokenizerJson()) as object, JSON.parse(ours.tokenizerConfig(128)) as object);
  let lines = 0, tokens = 0;
  for (const split of MULTI30K_SPLITS) {
    for (const { src } of await readMulti30k(split)) {
      const ids = ours.encodeForModel(src).ids;
      assert.deepEqual(theirs.encode(src).ids, ids, src);
      assert.equal(ours.decode(ids), src);
      assert.equal(theirs.decode(ids, { skip_special_tokens: true }), src);
      lines++;
      tokens += ids.length;
    }
  }
  assert.equal(lines, 33546);
  const corners = ['Café NAÏVE — “quoted”… ok?', 'tab\there  two  spaces\n new line ', '☃ ∞ 🙂 東京 ﬁ', "don't $5.00 (a/b) #1 it's", '', '   ',
    'A <mask> runs.', 'A\t<mask>', '<s>in text</s> and <pad><unk>', '</s></s>', 'lone \ud800 surrogate', 'x'.repeat(300)];
  for (const text of corners) assert.deepEqual(theirs.encode(text).ids, ours.encodeForModel(text).ids, JSON.stringify(text));
  assert.deepEqual(ours.encode('A <mask>'), [...ours.encode('A'), ours.maskId], '<mask> swallows the space before it (lstrip)');
  assert.deepEqual(ours.encode('<s>x</s>'), [0, ...ours.encode('x'), 2]);
  const pair = theirs.encode('A dog.', { text_pair: 'It runs!' }).ids;
  assert.deepEqual(pair, ours.encodeForModel('A dog.', 'It runs!').ids);
  assert.deepEqual(pair, [0, ...ours.encode('A dog.'), 2, 2, ...ours.encode('It runs!'), 2]);
  const withSpecials = ours.encodeForModel('A dog <mask> runs.', 'Ok').ids;
  assert.equal(theirs.decode(withSpecials), ours.decode(withSpecials, false));
  assert.equal(ours.decode(withSpecials, false), '<s>A dog<mask> runs.</s></s>Ok</s>');
  t.diagnostic(`${lines} lines, ${tokens} ids, identical; vocabulary ${ours.vocabSize}`);
});

test('tokenizer.json reads back to the same tokenizer; unsupported files are refused by name', () => {
  const ours = RobertaTokenizer.learn(['A dog runs in the park.', 'Two dogs run in the snow.', 'A man with a hat.'], { vocabSize: 280, minFrequency: 1 });
  const text = ours.toTokenizerJson();
  const back = encoderTokenizerFromJson(text, 'x/tokenizer.json');
  assert.ok(back instanceof RobertaTokenizer);
  assert.equal(back.toTokenizerJson(), text);
  assert.deepEqual(back.encodeForModel('Dogs run, a man runs.').ids, ours.encodeForModel('Dogs run, a man runs.').ids);
  const json = JSON.parse(text) as Record<string, any>;
  const bad = (change: (j: Record<string, any>) => void): string => { const j = structuredClone(json); change(j); return JSON.stringify(j); };
  assert.throws(() => encoderTokenizerFromJson(bad((j) => { j.model.type = 'Unigram'; }), 'x'), /model type "Unigram" is not supported; supported: "WordPiece" \(BERT\) and "BPE"/);
  assert.throws(() => RobertaTokenizer.fromTokenizerJson(wordPieceToJson(WordPiece.learn(['a b'], { vocabSize: 10 })), 'wp.json'), /wp.json: model type "WordPiece" is not supported here; supported: "BPE"/);
  assert.throws(() => RobertaTokenizer.fromTokenizerJson(bad((j) => { j.post_processor = { type: 'TemplateProcessing' }; })), /post_processor "TemplateProcessing" is not supported; supported: "RobertaProcessing"/);
  assert.throws(() => RobertaTokenizer.fromTokenizerJson(bad((j) => { j.pre_tokenizer = { type: 'Metaspace' }; })), /pre_tokenizer "Metaspace" is not supported; supported: "ByteLevel"/);
  assert.throws(() => RobertaTokenizer.fromTokenizerJson(bad((j) => { j.pre_tokenizer.add_prefix_space = true; })), /only add_prefix_space false/);
  assert.throws(() => RobertaTokenizer.fromTokenizerJson(bad((j) => { j.normalizer = { type: 'NFC' }; })), /normalizer "NFC" is not supported/);
  assert.throws(() => RobertaTokenizer.fromTokenizerJson(bad((j) => { j.added_tokens.pop(); delete j.model.vocab['<mask>']; })), /no added token "<mask>"/);
  assert.throws(() => RobertaTokenizer.fromTokenizerJson(bad((j) => { j.model.vocab['Ġdog'] = 4; })), /token id 4 is given to two tokens/);
  assert.throws(() => RobertaTokenizer.fromTokenizerJson(bad((j) => { j.model.vocab['Ġdog'] = 9999; })), /token id 9999 is outside \[0, 280\)/);
  assert.throws(() => RobertaTokenizer.fromTokenizerJson(bad((j) => { j.model.merges.push('Ġd zz'); })), /expected two tokens of vocab.json/);
  assert.throws(() => RobertaTokenizer.fromTokenizerJson('{"model": '), /not JSON/);
  // roberta-base's vocabulary holds GPT-2's <|endoftext|> as an ordinary token (no merge makes it): it reads and decodes.
  const withEot = RobertaTokenizer.fromTokenizerJson(bad((j) => {
    j.model.vocab['Ġdog'] = 279; // <|endoftext|> takes its id, in the middle of the vocabulary; it moves to where <mask> was
    j.model.vocab['<|endoftext|>'] = ours.encode(' dog')[0];
    j.model.vocab['<mask>'] = j.added_tokens.at(-1).id = 280;
  }));
  assert.deepEqual([withEot.vocabSize, withEot.maskId, withEot.decode([...ours.encode(' dog'), 279], false)], [281, 280, '<|endoftext|> dog']);
  assert.deepEqual(withEot.encodeForModel('A dog <mask>').ids, [0, ...ours.encode('A'), 279, 280, 2]);
});

test('aiayn train-mlm on roberta-tiny learns the BPE tokenizer, writes it, resumes; finetune and classify load it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-roberta-'));
  const file = (name: string, text: string): string => { writeFileSync(join(dir, name), text); return join(dir, name); };
  const animals = ['dog', 'cat', 'horse', 'bird'];
  const lines = Array.from({ length: 48 }, (_, i) => `A ${animals[i % 4]} runs in the ${['park', 'snow', 'street'][i % 3]}.`);
  const small = ['--preset', 'roberta-tiny', '--max-len', '16', '--batch-size', '8', '--quiet'];
  try {
    const mlm = join(dir, 'mlm');
    const pretrain = ['train-mlm', '--out', mlm, '--train', file('t.txt', lines.join('\n')), '--val', file('v.txt', lines.slice(0, 8).join('\n')),
      '--vocab-size', '300', '--max-steps', '4', '--eval-every', '2', '--checkpoint-every', '2', '--keep-checkpoints', '3', ...small];
    assert.equal(await main(pretrain), 0);
    const tokJson = readFileSync(join(mlm, 'tokenizer.json'), 'utf8');
    const tokConfig = JSON.parse(readFileSync(join(mlm, 'tokenizer_config.json'), 'utf8')) as { tokenizer_class: string; model_max_length: number };
    const config = JSON.parse(readFileSync(join(mlm, 'config.json'), 'utf8')) as { model_type: string; vocab_size: number; pad_token_id: number };
    const ours = RobertaTokenizer.learn(lines, { vocabSize: 300 });
    assert.equal(tokJson, ours.toTokenizerJson(), 'the tokenizer learnt from --train');
    assert.deepEqual([tokConfig.tokenizer_class, tokConfig.model_max_length], ['RobertaTokenizer', 16]);
    assert.deepEqual([config.model_type, config.vocab_size, config.pad_token_id], ['roberta', ours.vocabSize, 1]);
    const theirs = new Tokenizer(JSON.parse(tokJson) as object, tokConfig);
    assert.deepEqual(theirs.encode(lines[5]!).ids, ours.encodeForModel(lines[5]!).ids);
    const whole = readFileSync(join(mlm, 'model.safetensors'));
    unlinkSync(join(mlm, 'checkpoints', 'ckpt-4.safetensors')); // as if killed after step 2's checkpoint
    assert.equal(await main(['train-mlm', '--out', mlm, '--resume', '--quiet']), 0);
    assert.ok(readFileSync(join(mlm, 'model.safetensors')).equals(whole), 'the resumed run, its tokenizer read back, ends with the same weights');

    const tsv = file('a.tsv', lines.map((l, i) => `${i % 2 === 0 ? 'dog' : 'other'}\t${l}`).join('\n'));
    const ft = join(dir, 'ft');
    assert.equal(await main(['finetune', '--out', ft, '--model', mlm, '--train', tsv, '--val', tsv, '--max-steps', '2', '--eval-every', '2', '--checkpoint-every', '2', ...small]), 0);
    assert.equal(readFileSync(join(ft, 'tokenizer.json'), 'utf8'), tokJson);
    assert.equal(await main(['classify', '--model', ft, '--eval', tsv]), 0);
    writeFileSync(join(ft, 'tokenizer.json'), wordPieceToJson(WordPiece.learn(lines, { vocabSize: 60 })));
    assert.equal(await main(['classify', '--model', ft, '--eval', tsv]), 2); // WordPiece pads with 0, the model with 1
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
