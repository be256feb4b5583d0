// GPT-2's byte-level BPE (tiktoken's r50k_base): GPT-2's pre-tokenization regex, then merges over UTF-8 bytes.
// Loads a tiktoken rank file (base64 token, rank) or GPT-2's vocab.json + merges.txt; the ranks ship in data/gpt2.
import { fileURLToPath } from 'node:url';
import { DataError, readText } from './files.js';
import { applyMerges, pairKey, PairMergeTable, type MergeTable } from './merge.js';

/** GPT-2's pre-tokenization pattern, as in tiktoken's r50k_base. */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
/** The end-of-text special token of GPT-2. */
export const GPT2_EOT = '<|endoftext|>';
/** Where the bundled r50k_base rank file lies. */
export const GPT2_RANKS_PATH = fileURLToPath(new URL('../../data/gpt2/r50k_base.tiktoken.gz', import.meta.url));

/** tiktoken's rule: two adjacent tokens merge when their concatenated bytes are a token; its rank is its id. */
class ConcatRankTable implements MergeTable {
  private readonly memo = new Map<number, number>();

  constructor(private readonly bytesOf: readonly string[], private readonly ids: ReadonlyMap<string, number>) {}

  rankOf(left: number, right: number): number {
    const key = pairKey(left, right);
    let rank = this.memo.get(key);
    if (rank === undefined) {
      rank = this.ids.get(this.bytesOf[left]! + this.bytesOf[right]!) ?? -1;
      this.memo.set(key, rank);
    }
    return rank;
  }

  tokenOf(rank: number): number { return rank; }
}

/** GPT-2's printable stand-in character for each byte, as used by vocab.json and merges.txt. */
export const BYTE_STAND_INS: readonly string[] = (() => {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : 256 + extra++));
})();

/** A byte-level BPE tokenizer compatible with GPT-2 (token for token equal to tiktoken's `gpt2` encoding). */
export class Gpt2Tokenizer {
  private static bundledTokenizer: Promise<Gpt2Tokenizer> | undefined;
  private readonly cache = new Map<string, number[]>();
  /** Id of `<|endoftext|>`. */
  readonly eotId: number;

  /** `bytesOf[id]` holds a token's bytes as a latin1 string; `ids` is its inverse. */
  private constructor(
    private readonly bytesOf: string[], private readonly ids: Map<string, number>, private readonly table: MergeTable,
    /** The merges in priority order when the files listed them (vocab.json + merges.txt); derived from ranks otherwise. */
    private merges: Array<[number, number]> | null = null,
  ) {
    this.eotId = bytesOf.length;
  }

  /** Parses a tiktoken rank file: one `base64-token rank` per line. */
  static fromTiktoken(text: string, source = 'tiktoken ranks'): Gpt2Tokenizer {
    const bytesOf: string[] = [];
    const ids = new Map<string, number>();
    text.split('\n').forEach((line, i) => {
      if (line === '') return;
      const [b64, rankText, extra] = line.split(' ');
      const rank = Number(rankText);
      if (!b64 || extra !== undefined || !Number.isInteger(rank) || rank < 0 || bytesOf[rank] !== undefined) {
        throw new DataError('expected "base64-token rank" with a new rank', source, i + 1);
      }
      const bytes = Buffer.from(b64, 'base64').toString('latin1');
      bytesOf[rank] = bytes;
      ids.set(bytes, rank);
    });
    return Gpt2Tokenizer.checked(bytesOf, ids, new ConcatRankTable(bytesOf, ids), source);
  }

  /**
   * Builds the tokenizer from GPT-2's vocab.json (token → id) and merges.txt (one merge per line, in order). With
   * `ownEot` false the vocabulary has no end-of-text token of its own: a `<|endoftext|>` entry is an ordinary token.
   */
  static fromVocabMerges(vocabJson: string, mergesText: string, source = 'vocab.json', mergesSource = 'merges.txt', ownEot = true): Gpt2Tokenizer {
    let vocab: unknown;
    try { vocab = JSON.parse(vocabJson); } catch (err) { throw new DataError(`malformed JSON: ${(err as Error).message}`, source); }
    if (typeof vocab !== 'object' || vocab === null) throw new DataError('expected an object of token → id', source);
    const toByte = new Map(BYTE_STAND_INS.map((c, b) => [c, b]));
    const decodeToken = (t: string): string => Array.from(t, (c) => {
      const b = toByte.get(c);
      if (b === undefined) throw new DataError(`token ${JSON.stringify(t)} has a character outside GPT-2's byte alphabet`, source);
      return String.fromCharCode(b);
    }).join('');
    const bytesOf: string[] = [];
    const ids = new Map<string, number>();
    for (const [token, id] of Object.entries(vocab as Record<string, unknown>)) {
      if (token === GPT2_EOT && ownEot) continue;
      if (!Number.isInteger(id) || (id as number) < 0) throw new DataError(`token ${JSON.stringify(token)} has a bad id`, source);
      if (bytesOf[id as number] !== undefined) throw new DataError(`token ${JSON.stringify(token)} has id ${id}, which another token has already`, source);
      bytesOf[id as number] = decodeToken(token);
      ids.set(bytesOf[id as number]!, id as number);
    }
    const pairs: Array<[number, number]> = [];
    const merged: number[] = [];
    mergesText.split('\n').forEach((line, i) => {
      if (line === '' || line.startsWith('#version')) return;
      const parts = line.split(' ');
      const [a, b] = parts.map((p) => ids.get(decodeToken(p)));
      const m = a === undefined || b === undefined ? undefined : ids.get(bytesOf[a]! + bytesOf[b]!);
      if (parts.length !== 2 || a === undefined || b === undefined || m === undefined) {
        throw new DataError('expected two tokens of vocab.json whose concatenation is in vocab.json', mergesSource, i + 1);
      }
      pairs.push([a, b]);
      merged.push(m);
    });
    return Gpt2Tokenizer.checked(bytesOf, ids, new PairMergeTable(pairs, merged), source, pairs);
  }

  /**
   * Builds the tokenizer from a Hugging Face tokenizer.json whose model is byte-level BPE (GPT-2's): model.vocab
   * and model.merges ("a b" strings or [a, b] pairs). Other model types are refused with the supported one named.
   */
  static fromTokenizerJson(text: string, source = 'tokenizer.json'): Gpt2Tokenizer {
    let json: unknown;
    try { json = JSON.parse(text); } catch (err) { throw new DataError(`malformed JSON: ${(err as Error).message}`, source); }
    const model = (json as { model?: { type?: unknown; vocab?: unknown; merges?: unknown } } | null)?.model;
    if (typeof model !== 'object' || model === null) throw new DataError('no "model" object', source);
    if (model.type !== 'BPE') throw new DataError(`model type ${JSON.stringify(model.type)} is not supported; supported: "BPE" (GPT-2's byte-level BPE)`, source);
    if (!Array.isArray(model.merges)) throw new DataError('"model.merges" must be a list', source);
    const merges = model.merges.map((m: unknown) => (Array.isArray(m) ? m.join(' ') : String(m)));
    return Gpt2Tokenizer.fromVocabMerges(JSON.stringify(model.vocab ?? null), merges.join('\n'), source, source);
  }

  /**
   * Builds the tokenizer from its tokens' bytes (`bytesOf[id]`, latin1 strings that include every single byte) and
   * its merges in priority order, each joining two tokens into the token of their concatenated bytes.
   */
  static fromMerges(bytesOf: string[], merges: Array<[number, number]>, source = 'merges'): Gpt2Tokenizer {
    const ids = new Map(bytesOf.map((bytes, id) => [bytes, id]));
    if (ids.size !== bytesOf.length) throw new DataError('two tokens have the same bytes', source);
    const merged = merges.map(([a, b], rank) => {
      const m = ids.get(bytesOf[a]! + bytesOf[b]!);
      if (m === undefined) throw new DataError(`merge ${rank} (${a} ${b}) makes no token`, source);
      return m;
    });
    return Gpt2Tokenizer.checked(bytesOf, ids, new PairMergeTable(merges, merged), source, merges);
  }

  /** Loads a Hugging Face tokenizer.json (byte-level BPE). */
  static async loadTokenizerJson(path: string): Promise<Gpt2Tokenizer> {
    return Gpt2Tokenizer.fromTokenizerJson(await readText(path), path);
  }

  /** Loads a tiktoken rank file (plain or gzip). */
  static async loadTiktoken(path: string): Promise<Gpt2Tokenizer> {
    return Gpt2Tokenizer.fromTiktoken(await readText(path), path);
  }

  /** Loads GPT-2's vocab.json and merges.txt. */
  static async loadVocabMerges(vocabPath: string, mergesPath: string): Promise<Gpt2Tokenizer> {
    return Gpt2Tokenizer.fromVocabMerges(await readText(vocabPath), await readText(mergesPath), vocabPath, mergesPath);
  }

  /** The GPT-2 (r50k_base) tokenizer from the ranks bundled in data/gpt2; loaded once. */
  static bundled(): Promise<Gpt2Tokenizer> {
    Gpt2Tokenizer.bundledTokenizer ??= Gpt2Tokenizer.loadTiktoken(GPT2_RANKS_PATH);
    return Gpt2Tokenizer.bundledTokenizer;
  }

  private static checked(bytesOf: string[], ids: Map<string, number>, table: MergeTable, source: string, merges: Array<[number, number]> | null = null): Gpt2Tokenizer {
    for (let id = 0; id < bytesOf.length; id++) {
      if (bytesOf[id] === undefined) throw new DataError(`token id ${id} is missing`, source);
    }
    for (let b = 0; b < 256; b++) {
      if (!ids.has(String.fromCharCode(b))) throw new DataError(`byte 0x${b.toString(16)} has no token`, source);
    }
    return new Gpt2Tokenizer(bytesOf, ids, table, merges);
  }

  /** The number of token ids, `<|endoftext|>` included. */
  get vocabSize(): number { return this.bytesOf.length + 1; }

  /** Encodes text as ordinary text (like tiktoken's encode_ordinary: `<|endoftext|>` in text is not special). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const match of text.matchAll(GPT2_PATTERN)) {
      const piece = match[0];
      let tokens = this.cache.get(piece);
      if (tokens === undefined) {
        tokens = this.encodePiece(Buffer.from(piece, 'utf8').toString('latin1'));
        if (this.cache.size >= 1 << 18) this.cache.clear();
        this.cache.set(piece, tokens);
      }
      for (const t of tokens) out.push(t);
    }
    return out;
  }

  /** Decodes ids to text; byte sequences that are not UTF-8 become U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    const parts: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === this.eotId) { parts.push(Buffer.from(GPT2_EOT).toString('latin1')); continue; }
      const bytes = this.bytesOf[id];
      if (bytes === undefined) throw new RangeError(`token id ${id} is outside the vocabulary`);
      parts.push(bytes);
    }
    return Buffer.from(parts.join(''), 'latin1').toString('utf8');
  }

  /** A token as GPT-2's vocab.json writes it (bytes as printable stand-ins, e.g. 'Ġthe' for ' the'). */
  tokenText(id: number): string {
    if (id === this.eotId) return GPT2_EOT;
    const bytes = this.bytesOf[id];
    if (bytes === undefined) throw new RangeError(`token id ${id} is outside the vocabulary`);
    return Array.from(bytes, (c) => BYTE_STAND_INS[c.charCodeAt(0)]!).join('');
  }

  /**
   * The merges in priority order. From a rank file they are recovered as tiktoken does: token r's two parts are what
   * BPE with the merges of rank below r makes of its bytes.
   */
  mergePairs(): Array<[number, number]> {
    if (this.merges !== null) return this.merges;
    const merges: Array<[number, number]> = [];
    for (let rank = 0; rank < this.bytesOf.length; rank++) {
      const bytes = this.bytesOf[rank]!;
      if (bytes.length < 2) continue;
      const below: MergeTable = { rankOf: (a, b) => { const r = this.table.rankOf(a, b); return r < rank ? r : -1; }, tokenOf: (r) => this.table.tokenOf(r) };
      const parts = applyMerges(Array.from(bytes, (c) => this.ids.get(c)!), below);
      if (parts.length !== 2) throw new Error(`GPT-2 tokenizer: token ${rank} is not the merge of two earlier tokens`);
      merges.push([parts[0]!, parts[1]!]);
    }
    this.merges = merges;
    return merges;
  }

  /** vocab.json's object: each token (as tokenText writes it) -> id, <|endoftext|> last. */
  vocabObject(): Record<string, number> {
    const vocab: Record<string, number> = {};
    for (let id = 0; id < this.vocabSize; id++) vocab[this.tokenText(id)] = id;
    return vocab;
  }

  /** merges.txt: a version line, then one merge per line in priority order. */
  mergesText(): string {
    return '#version: 0.2\n' + this.mergePairs().map(([a, b]) => `${this.tokenText(a)} ${this.tokenText(b)}\n`).join('');
  }

  /** A Hugging Face tokenizer.json: byte-level BPE with GPT-2's pre-tokenizer, decoder and <|endoftext|>. */
  toTokenizerJson(): string {
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    return JSON.stringify({
      version: '1.0', truncation: null, padding: null,
      added_tokens: [{ id: this.eotId, content: GPT2_EOT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
      normalizer: null, pre_tokenizer: byteLevel, post_processor: { ...byteLevel, trim_offsets: false }, decoder: byteLevel,
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false,
        vocab: this.vocabObject(), merges: this.mergePairs().map(([a, b]) => `${this.tokenText(a)} ${this.tokenText(b)}`),
      },
    });
  }

  /** BPE over one pre-token's bytes (a latin1 string); a pre-token that is itself a token maps to it directly. */
  private encodePiece(bytes: string): number[] {
    const whole = this.ids.get(bytes);
    if (whole !== undefined) return [whole];
    const symbols: number[] = [];
    for (let i = 0; i < bytes.length; i++) symbols.push(this.ids.get(bytes[i]!)!);
    return applyMerges(symbols, this.table);
  }
}
