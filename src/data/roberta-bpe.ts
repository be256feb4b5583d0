// RoBERTa's tokenizer (Liu et al. 2019, §4.4): GPT-2's byte-level BPE (Radford et al. 2019, §2.2; gpt2.ts does the
// pre-tokenization and the merges) under RoBERTa's special tokens <s>=0, <pad>=1, </s>=2, <unk>=3 and <mask> last,
// which swallows the whitespace before it (lstrip); a model input is <s> A </s>, or <s> A </s></s> B </s> for a
// pair. A vocabulary is learnt as Hugging Face's ByteLevel BPE trainer does: the 256 bytes (in GPT-2's order of
// their printable stand-ins), then BPE merges (bpe-learn.ts) over the bytes of each GPT-2 pre-token.
// Hugging Face tokenizer.json (BPE, ByteLevel, RobertaProcessing, added_tokens) is read and written here too.

import { learnMerges } from './bpe-learn.js';
import { DataError } from './files.js';
import { BYTE_STAND_INS, GPT2_PATTERN, Gpt2Tokenizer } from './gpt2.js';
import { showValue } from './show.js';
import { truncateLongestFirst } from './truncate.js';
import type { EncoderTokenizer } from './encoder-tokenizer.js';
import type { BertEncoding } from './wordpiece.js';

/** RoBERTa's leading special tokens, ids 0..3 of a learnt vocabulary; <mask> is the last id. */
export const ROBERTA_SPECIALS = ['<s>', '<pad>', '</s>', '<unk>'] as const;
/** RoBERTa's mask token. */
export const ROBERTA_MASK = '<mask>';

/** A token matched in the text before BPE (tokenizer.json's added_tokens); lstrip / rstrip swallow adjacent whitespace. */
export interface AddedToken { content: string; id: number; lstrip: boolean; rstrip: boolean; }

/** Options of RobertaTokenizer.learn. */
export interface RobertaLearnOptions {
  /** Size of the whole vocabulary: 4 specials, 256 bytes, the merges, <mask> (smaller when merges run out). */
  vocabSize: number;
  /** Pairs seen fewer times are not merged (default 2). */
  minFrequency?: number;
}

type Json = Record<string, unknown>;

const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };

/** The 256 single bytes in the order of their printable stand-ins (GPT-2's and Hugging Face's order). */
const BYTES_IN_STAND_IN_ORDER: readonly number[] = Array.from({ length: 256 }, (_, b) => b)
  .sort((a, b) => BYTE_STAND_INS[a]!.codePointAt(0)! - BYTE_STAND_INS[b]!.codePointAt(0)!);

/** RoBERTa's byte-level BPE tokenizer: ids are those of its vocabulary, specials included. */
export class RobertaTokenizer implements EncoderTokenizer {
  /** Number of ids: BPE tokens and added tokens. */
  readonly vocabSize: number;
  /** Id of <s>, which opens every input (the post-processor's cls). */
  readonly clsId: number;
  /** Id of </s>, which closes each text (the post-processor's sep). */
  readonly sepId: number;
  /** Id of <pad>. */
  readonly padId: number;
  /** Id of <mask>. */
  readonly maskId: number;
  /** Ids of the added tokens, never chosen for masked-LM prediction. */
  readonly specialIds: ReadonlySet<number>;
  /** Ids that masked-LM corruption draws random replacements from: [first, end), the BPE tokens between the specials. */
  readonly ordinaryIds: readonly [number, number];
  private readonly innerOf: Int32Array;
  private readonly addedById: ReadonlyMap<number, AddedToken>;
  private readonly addedByContent: ReadonlyMap<string, AddedToken>;
  private readonly splitter: RegExp | null;

  /**
   * `bpe` numbers its tokens 0..n-1; `outerOf[inner]` is each one's id here, and the added tokens take the other
   * ids, so that together they number 0..vocabSize-1; `cls` and `sep` name the post-processor's tokens.
   */
  constructor(private readonly bpe: Gpt2Tokenizer, private readonly outerOf: Int32Array, readonly added: readonly AddedToken[], roles: { cls: string; sep: string }, source = 'RoBERTa tokenizer') {
    this.vocabSize = outerOf.length + added.length;
    this.innerOf = new Int32Array(this.vocabSize).fill(-2);
    outerOf.forEach((id, inner) => this.claim(id, inner, source));
    for (const t of added) this.claim(t.id, -1, source);
    this.addedById = new Map(added.map((t) => [t.id, t]));
    this.addedByContent = new Map(added.map((t) => [t.content, t]));
    const idOf = (content: string, what: string): number => {
      const t = this.addedByContent.get(content);
      if (t === undefined) throw new DataError(`no added token ${JSON.stringify(content)} (${what})`, source);
      return t.id;
    };
    this.clsId = idOf(roles.cls, 'the post-processor\'s cls');
    this.sepId = idOf(roles.sep, 'the post-processor\'s sep');
    this.padId = idOf('<pad>', 'padding');
    this.maskId = idOf(ROBERTA_MASK, 'masked-LM pretraining');
    this.specialIds = new Set(added.map((t) => t.id));
    let first = 0, end = this.vocabSize;
    while (this.specialIds.has(first)) first++;
    while (end > first && this.specialIds.has(end - 1)) end--;
    this.ordinaryIds = [first, end];
    const escaped = [...this.addedByContent.keys()].sort((a, b) => b.length - a.length).map((c) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
    this.splitter = escaped.length === 0 ? null : new RegExp(`(${escaped.join('|')})`, 'u');
  }

  /** Records that `id` is the BPE token `inner` (-1: an added token), refusing ids out of range or taken twice. */
  private claim(id: number, inner: number, source: string): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new DataError(`token id ${showValue(id)} is outside [0, ${this.vocabSize}): the ids must number the tokens without gaps`, source);
    if (this.innerOf[id] !== -2) throw new DataError(`token id ${id} is given to two tokens`, source);
    this.innerOf[id] = inner;
  }

  /** Learns a byte-level BPE vocabulary of at most opts.vocabSize tokens from lines of text (RoBERTa's layout of ids). */
  static learn(lines: Iterable<string>, opts: RobertaLearnOptions): RobertaTokenizer {
    const base = ROBERTA_SPECIALS.length + 256 + 1;
    if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < base) throw new Error(`RobertaTokenizer.learn: vocabSize must be an integer >= ${base} (4 specials, 256 bytes, <mask>), got ${opts.vocabSize}`);
    const counts = new Map<string, number>();
    for (const line of lines) for (const m of line.matchAll(GPT2_PATTERN)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
    const bytesOf = BYTES_IN_STAND_IN_ORDER.map((b) => String.fromCharCode(b));
    const innerOfByte = new Int32Array(256);
    BYTES_IN_STAND_IN_ORDER.forEach((b, inner) => { innerOfByte[b] = inner; });
    const encoder = new TextEncoder();
    const words = [...counts.keys()].map((piece) => Array.from(encoder.encode(piece), (b) => innerOfByte[b]!));
    const idOfBytes = new Map(bytesOf.map((bytes, id) => [bytes, id]));
    const mergedId = (a: number, b: number): number => { // a merge that repeats a token's bytes makes that token, as HF's trainer does
      const bytes = bytesOf[a]! + bytesOf[b]!;
      let id = idOfBytes.get(bytes);
      if (id === undefined) { id = bytesOf.length; bytesOf.push(bytes); idOfBytes.set(bytes, id); }
      return id;
    };
    const merges = learnMerges(words, [...counts.values()], opts.vocabSize - base, 256, opts.minFrequency ?? 2, mergedId);
    const bpe = Gpt2Tokenizer.fromMerges(bytesOf, merges, 'learnt merges');
    const specials = ROBERTA_SPECIALS.map((content, id) => ({ content, id, lstrip: false, rstrip: false }));
    const mask = { content: ROBERTA_MASK, id: specials.length + bytesOf.length, lstrip: true, rstrip: false };
    return new RobertaTokenizer(bpe, Int32Array.from(bytesOf, (_, inner) => specials.length + inner), [...specials, mask], { cls: '<s>', sep: '</s>' });
  }

  /** Text -> ids, no <s> / </s> added; added tokens written in the text (e.g. <mask>) are matched first. */
  encode(text: string): number[] {
    const parts = this.splitter === null ? [text] : text.split(this.splitter); // odd indices: added tokens
    const out: number[] = [];
    parts.forEach((part, i) => {
      if (i % 2 === 1) { out.push(this.addedByContent.get(part)!.id); return; }
      let plain = part;
      if (i + 1 < parts.length && this.addedByContent.get(parts[i + 1]!)!.lstrip) plain = plain.trimEnd();
      if (i > 0 && this.addedByContent.get(parts[i - 1]!)!.rstrip) plain = plain.trimStart();
      for (const inner of this.bpe.encode(plain)) out.push(this.outerOf[inner]!);
    });
    return out;
  }

  /** <s> a </s> and, with a second text, </s> b </s>, each text cut to fit maxLen tokens in all; token types are 0. */
  encodeForModel(a: string, b?: string, maxLen = Infinity): BertEncoding {
    const [x, y] = truncateLongestFirst(this.encode(a), b === undefined ? [] : this.encode(b), maxLen - (b === undefined ? 2 : 4), `RobertaTokenizer (maxLen ${maxLen})`);
    const ids = [this.clsId, ...x, this.sepId, ...(b === undefined ? [] : [this.sepId, ...y, this.sepId])];
    return { ids, tokenTypes: ids.map(() => 0) };
  }

  /** Ids -> text; added tokens are dropped unless skipSpecialTokens is false (then written as their text). */
  decode(ids: ArrayLike<number>, skipSpecialTokens = true): string {
    let text = '';
    let run: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const inner = Number.isInteger(id) && id >= 0 && id < this.vocabSize ? this.innerOf[id]! : -2;
      if (inner === -2) throw new RangeError(`token id ${id} is outside the vocabulary of ${this.vocabSize}`);
      if (inner >= 0) { run.push(inner); continue; }
      if (skipSpecialTokens) continue;
      text += this.bpe.decode(run) + this.addedById.get(id)!.content;
      run = [];
    }
    return text + this.bpe.decode(run);
  }

  /** A token as tokenizer.json writes it: an added token's text, a BPE token's bytes as GPT-2's stand-ins ('Ġthe'). */
  tokenText(id: number): string {
    const inner = Number.isInteger(id) && id >= 0 && id < this.vocabSize ? this.innerOf[id]! : -2;
    if (inner === -2) throw new RangeError(`token id ${id} is outside the vocabulary of ${this.vocabSize}`);
    return inner >= 0 ? this.bpe.tokenText(inner) : this.addedById.get(id)!.content;
  }

  /** Hugging Face tokenizer.json: BPE model, ByteLevel pre-tokenizer and decoder, RobertaProcessing, added tokens. */
  toTokenizerJson(): string {
    const cls = this.tokenText(this.clsId), sep = this.tokenText(this.sepId);
    return JSON.stringify({
      version: '1.0', truncation: null, padding: null,
      added_tokens: [...this.added].sort((a, b) => a.id - b.id).map((t) => ({ id: t.id, content: t.content, single_word: false, lstrip: t.lstrip, rstrip: t.rstrip, normalized: false, special: true })),
      normalizer: null, pre_tokenizer: BYTE_LEVEL,
      post_processor: { type: 'RobertaProcessing', sep: [sep, this.sepId], cls: [cls, this.clsId], trim_offsets: true, add_prefix_space: false },
      decoder: BYTE_LEVEL,
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false,
        vocab: Object.fromEntries(Array.from({ length: this.vocabSize }, (_, id) => [this.tokenText(id), id])),
        merges: this.bpe.mergePairs().map(([a, b]) => `${this.bpe.tokenText(a)} ${this.bpe.tokenText(b)}`),
      },
    }, null, 2) + '\n';
  }

  /** tokenizer_config.json (RobertaTokenizer), which @huggingface/transformers' AutoTokenizer reads beside tokenizer.json. */
  tokenizerConfig(modelMaxLength: number): string {
    const text = (id: number) => this.tokenText(id);
    return JSON.stringify({
      tokenizer_class: 'RobertaTokenizer', model_max_length: modelMaxLength, add_prefix_space: false, trim_offsets: true, errors: 'replace',
      bos_token: text(this.clsId), eos_token: text(this.sepId), cls_token: text(this.clsId), sep_token: text(this.sepId),
      unk_token: this.addedByContent.has('<unk>') ? '<unk>' : null, pad_token: text(this.padId), mask_token: text(this.maskId),
      clean_up_tokenization_spaces: false,
    }, null, 2) + '\n';
  }

  /**
   * Reads a Hugging Face tokenizer.json of RoBERTa's kind: model BPE over GPT-2's byte alphabet, no normalizer,
   * ByteLevel pre-tokenizer (no prefix space) and decoder, RobertaProcessing; anything else is refused by name.
   */
  static fromTokenizerJson(text: string, source = 'tokenizer.json'): RobertaTokenizer {
    const fail = (problem: string): never => { throw new DataError(problem, source); };
    let json: Json;
    try { json = JSON.parse(text) as Json; } catch (err) { return fail(`not JSON (${(err as Error).message})`); }
    if (typeof json !== 'object' || json === null) return fail('expected a JSON object');
    const model = (json['model'] ?? {}) as Json;
    if (model['type'] !== 'BPE') fail(`model type ${showValue(model['type'])} is not supported here; supported: "BPE" (RoBERTa's byte-level BPE)`);
    if (json['normalizer'] !== null && json['normalizer'] !== undefined) fail(`normalizer ${showValue((json['normalizer'] as Json)['type'])} is not supported (RoBERTa has none: null)`);
    const byteLevel = (key: string): void => {
      const c = json[key] as Json | null | undefined;
      if (c?.['type'] !== 'ByteLevel') fail(`${key} ${showValue(c?.['type'] ?? c)} is not supported; supported: "ByteLevel"`);
      if (key === 'pre_tokenizer' && (c!['add_prefix_space'] === true || c!['use_regex'] === false)) fail('pre_tokenizer ByteLevel: only add_prefix_space false and use_regex true are supported (RoBERTa\'s)');
    };
    byteLevel('pre_tokenizer');
    byteLevel('decoder');
    const post = json['post_processor'] as Json | null | undefined;
    if (post?.['type'] !== 'RobertaProcessing') fail(`post_processor ${showValue(post?.['type'] ?? post)} is not supported; supported: "RobertaProcessing"`);
    const role = (key: 'cls' | 'sep'): string => {
      const r = post![key];
      if (!Array.isArray(r) || typeof r[0] !== 'string') fail(`post_processor.${key} must be [token, id], got ${showValue(r)}`);
      return (r as string[])[0]!;
    };
    if (model['dropout'] !== null && model['dropout'] !== undefined && model['dropout'] !== 0) fail('model.dropout (BPE-dropout) is not supported');
    for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
      if (model[key] !== null && model[key] !== undefined && model[key] !== '') fail(`model.${key} ${showValue(model[key])} is not supported (byte-level BPE has none)`);
    }
    if (!Array.isArray(json['added_tokens'])) fail('"added_tokens" must be a list');
    const added = (json['added_tokens'] as unknown[]).map((t, k): AddedToken => {
      const o = (t ?? {}) as Json;
      if (typeof o['content'] !== 'string' || o['content'] === '' || !Number.isInteger(o['id'])) fail(`added_tokens[${k}] needs a non-empty "content" and an integer "id", got ${showValue(t)}`);
      if (o['single_word'] === true) fail(`added_tokens[${k}] (${showValue(o['content'])}): single_word is not supported`);
      return { content: o['content'] as string, id: o['id'] as number, lstrip: o['lstrip'] === true, rstrip: o['rstrip'] === true };
    });
    const addedIds = new Map(added.map((t) => [t.content, t.id]));
    const vocab = model['vocab'];
    if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) return fail('model.vocab must be an object of token -> id');
    const ordinary: Array<[string, number]> = [];
    for (const [token, id] of Object.entries(vocab as Json)) {
      const addedId = addedIds.get(token);
      if (addedId === undefined) { ordinary.push([token, id as number]); continue; }
      if (addedId !== id) fail(`${JSON.stringify(token)} has id ${showValue(id)} in model.vocab but ${addedId} in added_tokens`);
    }
    for (const [token, id] of ordinary) if (!Number.isInteger(id)) fail(`model.vocab: id of ${JSON.stringify(token)} is ${showValue(id)}, not an integer`);
    ordinary.sort((a, b) => a[1] - b[1]);
    if (!Array.isArray(model['merges'])) fail('model.merges must be a list');
    const merges = (model['merges'] as unknown[]).map((m) => (Array.isArray(m) ? m.join(' ') : String(m)));
    const innerVocab = JSON.stringify(Object.fromEntries(ordinary.map(([token], inner) => [token, inner])));
    const bpe = Gpt2Tokenizer.fromVocabMerges(innerVocab, merges.join('\n'), source, source, false);
    return new RobertaTokenizer(bpe, Int32Array.from(ordinary, ([, id]) => id), added, { cls: role('cls'), sep: role('sep') }, source);
  }
}
