// Hugging Face tokenizer.json for WordPiece (BERT, Devlin et al. 2019): the BertNormalizer, BertPreTokenizer,
// WordPiece model, TemplateProcessing ([CLS] $A [SEP] $B:1 [SEP]:1) and WordPiece decoder that `tokenizers`
// writes for bert-base-uncased. Reading accepts exactly those component types and names anything else.

import { showValue } from './show.js';
import { WORDPIECE_SPECIALS, WordPiece } from './wordpiece.js';

type Json = Record<string, unknown>;

/** tokenizer.json text for a WordPiece tokenizer. */
export function wordPieceToJson(wp: WordPiece): string {
  const o = wp.options;
  const specials = WORDPIECE_SPECIALS.filter((t) => wp.id(t) !== undefined);
  const special = (id: string, typeId: number): Json => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: string, typeId: number): Json => ({ Sequence: { id, type_id: typeId } });
  const json = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: specials.map((t) => ({ id: wp.id(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: o.cleanText, handle_chinese_chars: o.handleChineseChars, strip_accents: o.stripAccents, lowercase: o.lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special('[CLS]', 0), seq('A', 0), special('[SEP]', 0)],
      pair: [special('[CLS]', 0), seq('A', 0), special('[SEP]', 0), seq('B', 1), special('[SEP]', 1)],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [wp.special(t)], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: o.prefix, cleanup: true },
    model: { type: 'WordPiece', unk_token: o.unkToken, continuing_subword_prefix: o.prefix, max_input_chars_per_word: o.maxInputCharsPerWord,
      vocab: Object.fromEntries(wp.vocab.map((t, i) => [t, i])) },
  };
  return JSON.stringify(json, null, 2) + '\n';
}

/** A WordPiece tokenizer from tokenizer.json text; `source` names the file in errors. */
export function wordPieceFromJson(text: string, source = 'tokenizer.json'): WordPiece {
  const fail = (problem: string): never => { throw new Error(`${source}: ${problem}`); };
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (err) {
    return fail(`not JSON (${(err as Error).message})`);
  }
  const model = (json['model'] ?? {}) as Json;
  if (model['type'] !== 'WordPiece') fail(`model type ${showValue(model['type'])} is not supported (aiayn reads WordPiece tokenizer.json files)`);
  const norm = json['normalizer'] as Json | null;
  if (norm !== null && norm?.['type'] !== 'BertNormalizer') fail(`normalizer ${showValue(norm?.['type'])} is not supported (only BertNormalizer)`);
  const pre = json['pre_tokenizer'] as Json | null;
  if (pre?.['type'] !== 'BertPreTokenizer') fail(`pre_tokenizer ${showValue(pre?.['type'])} is not supported (only BertPreTokenizer)`);
  const vocabObj = model['vocab'];
  if (typeof vocabObj !== 'object' || vocabObj === null) return fail('model.vocab is not an object of token -> id');
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(vocabObj as Record<string, unknown>)) {
    if (!Number.isInteger(id) || (id as number) < 0) fail(`model.vocab: id of ${JSON.stringify(token)} is ${showValue(id)}, not an integer >= 0`);
    if (vocab[id as number] !== undefined) fail(`model.vocab: id ${showValue(id)} is given to two tokens`);
    vocab[id as number] = token;
  }
  const hole = Array.from(vocab, (t) => t).findIndex((t) => t === undefined);
  if (hole >= 0) fail(`model.vocab: no token has id ${hole}`);
  const lowercase = norm === null ? false : norm['lowercase'] !== false;
  return new WordPiece(vocab, {
    lowercase, stripAccents: norm === null ? false : typeof norm['strip_accents'] === 'boolean' ? norm['strip_accents'] : lowercase,
    cleanText: norm === null ? false : norm['clean_text'] !== false, handleChineseChars: norm === null ? false : norm['handle_chinese_chars'] !== false,
    unkToken: typeof model['unk_token'] === 'string' ? model['unk_token'] : '[UNK]',
    prefix: typeof model['continuing_subword_prefix'] === 'string' ? model['continuing_subword_prefix'] : '##',
    maxInputCharsPerWord: typeof model['max_input_chars_per_word'] === 'number' ? model['max_input_chars_per_word'] : 100,
  });
}

/** tokenizer_config.json text (BertTokenizer), which @huggingface/transformers' AutoTokenizer needs beside tokenizer.json. */
export function wordPieceTokenizerConfig(wp: WordPiece, modelMaxLength: number): string {
  const o = wp.options;
  return JSON.stringify({
    tokenizer_class: 'BertTokenizer', do_lower_case: o.lowercase, strip_accents: o.stripAccents, tokenize_chinese_chars: o.handleChineseChars,
    model_max_length: modelMaxLength, unk_token: o.unkToken, sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]',
    clean_up_tokenization_spaces: true,
  }, null, 2) + '\n';
}
