// What training and using an encoder (BERT, Devlin et al. 2019, §3; RoBERTa, Liu et al. 2019, §4) needs of its
// tokenizer: the model input with its special tokens, the ids that masked-LM corruption must know (§3.1), and the
// Hugging Face files. BERT's WordPiece (wordpiece.ts) and RoBERTa's byte-level BPE (roberta-bpe.ts) provide it; a
// tokenizer.json is read as the tokenizer its model type names.

import { DataError, readText } from './files.js';
import { RobertaTokenizer } from './roberta-bpe.js';
import { showValue } from './show.js';
import { WORDPIECE_SPECIALS, type BertEncoding, type WordPiece } from './wordpiece.js';
import { wordPieceFromJson, wordPieceTokenizerConfig, wordPieceToJson } from './wordpiece-json.js';

/** A tokenizer of an encoder model: WordPiece (BERT) or byte-level BPE (RoBERTa). */
export interface EncoderTokenizer {
  /** Number of token ids. */
  readonly vocabSize: number;
  /** Id that pads a batch's shorter rows. */
  readonly padId: number;
  /** Id that masked-LM corruption puts in place of a chosen token. */
  readonly maskId: number;
  /** Ids never chosen for masked-LM prediction (the special tokens). */
  readonly specialIds: ReadonlySet<number>;
  /** Masked-LM corruption draws its random replacements from [first, end). */
  readonly ordinaryIds: readonly [number, number];
  /** The model input of one text or a pair, special tokens included, at most maxLen ids. */
  encodeForModel(a: string, b?: string, maxLen?: number): BertEncoding;
  /** Ids -> text, special tokens dropped. */
  decode(ids: readonly number[]): string;
  /** Hugging Face tokenizer.json. */
  toTokenizerJson(): string;
  /** Hugging Face tokenizer_config.json, which @huggingface/transformers' AutoTokenizer reads. */
  tokenizerConfig(modelMaxLength: number): string;
}

/** A WordPiece vocabulary as an EncoderTokenizer: BERT's specials first, random replacements from the ids after them. */
export function wordPieceEncoderTokenizer(wp: WordPiece): EncoderTokenizer {
  return {
    vocabSize: wp.vocab.length,
    get padId() { return wp.special('[PAD]'); },
    get maskId() { return wp.special('[MASK]'); },
    specialIds: new Set(WORDPIECE_SPECIALS.map((t) => wp.id(t)).filter((id): id is number => id !== undefined)),
    ordinaryIds: [WORDPIECE_SPECIALS.length, wp.vocab.length],
    encodeForModel: (a, b, maxLen) => wp.encodeForModel(a, b, maxLen),
    decode: (ids) => wp.decode(ids),
    toTokenizerJson: () => wordPieceToJson(wp),
    tokenizerConfig: (modelMaxLength) => wordPieceTokenizerConfig(wp, modelMaxLength),
  };
}

/** The tokenizer a tokenizer.json describes: model "WordPiece" (BERT) or "BPE" (RoBERTa); others are refused, the supported ones named. */
export function encoderTokenizerFromJson(text: string, source = 'tokenizer.json'): EncoderTokenizer {
  let type: unknown;
  try {
    type = (JSON.parse(text) as { model?: { type?: unknown } } | null)?.model?.type;
  } catch (err) {
    throw new DataError(`not JSON (${(err as Error).message})`, source);
  }
  if (type === 'WordPiece') return wordPieceEncoderTokenizer(wordPieceFromJson(text, source));
  if (type === 'BPE') return RobertaTokenizer.fromTokenizerJson(text, source);
  throw new DataError(`model type ${showValue(type)} is not supported; supported: "WordPiece" (BERT) and "BPE" (RoBERTa's byte-level BPE)`, source);
}

/** Reads a tokenizer.json file as encoderTokenizerFromJson does. */
export async function loadEncoderTokenizer(path: string): Promise<EncoderTokenizer> {
  return encoderTokenizerFromJson(await readText(path), path);
}
