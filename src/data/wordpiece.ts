// WordPiece (Schuster & Nakajima 2012; Wu et al. 2016, §4.1), the subword vocabulary of BERT (Devlin et al.
// 2019, §3: 30,000 tokens): after BERT's basic tokenizer (bert-pretokenize.ts), each word becomes the greedy
// longest-match-first sequence of vocabulary pieces, pieces after the first carrying the `##` prefix; a word
// that cannot be covered becomes [UNK]. A vocabulary is learnt as Hugging Face's WordPieceTrainer does: BPE
// merges (bpe-learn.ts) over words spelt as `c ##c ##c`, the vocabulary being the alphabet plus every merge.

import { learnMerges } from './bpe-learn.js';
import { bertNormalize, bertPreTokenize, type BertNormalizeOptions } from './bert-pretokenize.js';
import { truncateLongestFirst } from './truncate.js';

/** BERT's special tokens, first in a learnt vocabulary (ids 0..4). */
export const WORDPIECE_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** How a WordPiece tokenizer normalises and splits. */
export interface WordPieceOptions extends BertNormalizeOptions {
  unkToken: string;
  /** The prefix of pieces that continue a word (`##`). */
  prefix: string;
  /** Longer words become unkToken whole. */
  maxInputCharsPerWord: number;
}

/** Options of WordPiece.learn. */
export interface WordPieceLearnOptions { vocabSize: number; minFrequency?: number; lowercase?: boolean; }

/** BERT-uncased defaults. */
export const WORDPIECE_DEFAULTS: WordPieceOptions = {
  lowercase: true, stripAccents: true, cleanText: true, handleChineseChars: true, unkToken: '[UNK]', prefix: '##', maxInputCharsPerWord: 100,
};

/** Ids and token types of one model input: [CLS] a [SEP] (b [SEP]). */
export interface BertEncoding { ids: number[]; tokenTypes: number[]; }

/** A WordPiece vocabulary and its tokenizer. */
export class WordPiece {
  private readonly ids: Map<string, number>;
  readonly options: WordPieceOptions;

  constructor(readonly vocab: readonly string[], options: Partial<WordPieceOptions> = {}) {
    this.options = { ...WORDPIECE_DEFAULTS, ...options };
    this.ids = new Map(vocab.map((t, i) => [t, i]));
    if (this.ids.size !== vocab.length) throw new Error('WordPiece: the vocabulary has duplicate tokens');
    if (!this.ids.has(this.options.unkToken)) throw new Error(`WordPiece: the vocabulary lacks the unknown token ${this.options.unkToken}`);
  }

  /** Learns a vocabulary of at most vocabSize tokens (specials, alphabet, then merges) from lines of text. */
  static learn(lines: Iterable<string>, opts: WordPieceLearnOptions): WordPiece {
    const options = { ...WORDPIECE_DEFAULTS, lowercase: opts.lowercase ?? true, stripAccents: opts.lowercase ?? true };
    const counts = new Map<string, number>();
    for (const line of lines) for (const w of bertPreTokenize(bertNormalize(line, options))) counts.set(w, (counts.get(w) ?? 0) + 1);
    const spelt = [...counts.keys()].map((w) => Array.from(w).map((c, i) => (i === 0 ? c : options.prefix + c)));
    const alphabet = [...new Set(spelt.flat())].sort();
    const symbols: string[] = [...WORDPIECE_SPECIALS, ...alphabet];
    const idOf = new Map(symbols.map((s, i) => [s, i]));
    const words = spelt.map((w) => w.map((s) => idOf.get(s)!));
    const merges = learnMerges(words, [...counts.values()], Math.max(0, opts.vocabSize - symbols.length), symbols.length, opts.minFrequency ?? 2);
    for (const [a, b] of merges) symbols.push(symbols[a]! + symbols[b]!.slice(options.prefix.length));
    return new WordPiece(symbols, options);
  }

  /** The id of a token (undefined when it is not in the vocabulary). */
  id(token: string): number | undefined { return this.ids.get(token); }

  /** The id of a special token, or an error naming it. */
  special(token: string): number {
    const id = this.ids.get(token);
    if (id === undefined) throw new Error(`WordPiece: the vocabulary lacks ${token}`);
    return id;
  }

  /** The pieces of one pre-tokenized word: greedy longest match first, or [unk] when it cannot be covered. */
  private pieces(word: string): string[] {
    const chars = Array.from(word);
    const { unkToken, prefix, maxInputCharsPerWord } = this.options;
    if (chars.length > maxInputCharsPerWord) return [unkToken];
    const out: string[] = [];
    for (let start = 0; start < chars.length;) {
      let end = chars.length;
      let found: string | null = null;
      for (; end > start; end--) {
        const piece = (start > 0 ? prefix : '') + chars.slice(start, end).join('');
        if (this.ids.has(piece)) { found = piece; break; }
      }
      if (found === null) return [unkToken];
      out.push(found);
      start = end;
    }
    return out;
  }

  /** Text -> WordPiece tokens (no special tokens). */
  tokenize(text: string): string[] {
    return bertPreTokenize(bertNormalize(text, this.options)).flatMap((w) => this.pieces(w));
  }

  /** Text -> token ids (no special tokens). */
  encode(text: string): number[] {
    return this.tokenize(text).map((t) => this.ids.get(t)!);
  }

  /** [CLS] a [SEP] and, with a second text, b [SEP] (token type 1), each text cut to fit maxLen tokens in all. */
  encodeForModel(a: string, b?: string, maxLen = Infinity): BertEncoding {
    const [x, y] = truncateLongestFirst(this.encode(a), b === undefined ? [] : this.encode(b), maxLen - (b === undefined ? 2 : 3), `WordPiece (maxLen ${maxLen})`);
    const cls = this.special('[CLS]');
    const sep = this.special('[SEP]');
    const ids = [cls, ...x, sep, ...(b === undefined ? [] : [...y, sep])];
    return { ids, tokenTypes: ids.map((_, i) => (i < x.length + 2 ? 0 : 1)) };
  }

  /** Ids -> text: continuation pieces joined to the word before, specials dropped, spaces before punctuation cleaned up. */
  decode(ids: readonly number[]): string {
    const { prefix } = this.options;
    const specials = new Set<string>(WORDPIECE_SPECIALS);
    const tokens = ids.map((i) => this.vocab[i] ?? this.options.unkToken).filter((t) => !specials.has(t) || t === this.options.unkToken);
    const text = tokens.map((t, i) => (i > 0 && t.startsWith(prefix) ? t.slice(prefix.length) : (i > 0 ? ' ' : '') + t)).join('');
    return text.replace(/ ([.?!,])/g, '$1').replace(/ ' /g, "'").replace(/ n't/g, "n't").replace(/ '(m|s|ve|re)\b/g, "'$1");
  }
}
