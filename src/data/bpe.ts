// The Sennrich et al. 2016 BPE tokenizer: learned jointly over source and target text, lossless on any Unicode
// string (unseen characters fall back to UTF-8 byte tokens), saved as one JSON file.
import { readFile } from 'node:fs/promises';
import { learnMerges } from './bpe-learn.js';
import { DataError, writeFileAtomic } from './files.js';
import { showValue } from './show.js';
import { applyMerges, PairMergeTable } from './merge.js';
import { initialSymbols, splitWords } from './words.js';

/** The special tokens, in id order: pad = 0, bos = 1, eos = 2, unk = 3. */
export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;
/** Id of the padding token. */
export const PAD_ID = 0;
/** Id of the beginning-of-sequence token. */
export const BOS_ID = 1;
/** Id of the end-of-sequence token. */
export const EOS_ID = 2;
/** Id of the unknown token (never produced by encode, which falls back to bytes). */
export const UNK_ID = 3;
/** The `format` field of a saved tokenizer. */
export const BPE_FORMAT = 'aiayn-bpe';
/** The version of the saved format that this code reads and writes. */
export const BPE_VERSION = 1;

const BYTE_BASE = SPECIAL_TOKENS.length;
const SYMBOL_BASE = BYTE_BASE + 256;
const CACHE_LIMIT = 1 << 18;

/** The JSON form of a tokenizer: base symbols (ids from 260) and merges as a flat list of id pairs. */
export interface BpeJson {
  format: typeof BPE_FORMAT;
  version: number;
  specials: string[];
  symbols: string[];
  merges: number[];
}

/** How much to learn: a total vocabulary size or a number of merges, and the minimum pair frequency (default 2). */
export interface BpeLearnOptions { vocabSize?: number; merges?: number; minFrequency?: number; }

/** Counts the pre-tokens (words with their trailing space, whitespace runs) of `lines` into `counts`. */
export function countWords(lines: Iterable<string>, counts = new Map<string, number>()): Map<string, number> {
  for (const line of lines) {
    for (const w of splitWords(line)) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return counts;
}

/** A learned BPE tokenizer. Ids: 0-3 specials, 4-259 the bytes 0x00-0xFF, then base symbols, then merges. */
export class Bpe {
  private readonly symbolIds = new Map<string, number>();
  private readonly pieces: string[];
  private readonly table: PairMergeTable;
  private readonly cache = new Map<string, number[]>();
  private readonly utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
  private readonly utf8Encoder = new TextEncoder();

  private constructor(readonly symbols: readonly string[], readonly merges: ReadonlyArray<readonly [number, number]>) {
    this.pieces = [...symbols];
    symbols.forEach((s, i) => this.symbolIds.set(s, SYMBOL_BASE + i));
    const mergedIds = merges.map(([a, b], i) => {
      this.pieces.push(this.pieces[a - SYMBOL_BASE]! + this.pieces[b - SYMBOL_BASE]!);
      return SYMBOL_BASE + symbols.length + i;
    });
    this.table = new PairMergeTable(merges, mergedIds);
  }

  /** Learns a tokenizer from lines of text (pass source and target lines together for a joint vocabulary). */
  static learn(lines: Iterable<string>, options: BpeLearnOptions): Bpe {
    return Bpe.learnFromCounts(countWords(lines), options);
  }

  /** Learns a tokenizer from pre-token counts made by countWords. */
  static learnFromCounts(counts: Map<string, number>, options: BpeLearnOptions): Bpe {
    const symbolFreq = new Map<string, number>([[' ', 0]]);
    const split = [...counts].map(([w, f]) => {
      const syms = initialSymbols(w);
      for (const s of syms) {
        symbolFreq.set(s, (symbolFreq.get(s) ?? 0) + f);
        // A character seen only before a space still gets a symbol of its own, for text where it ends a line.
        if (s.length > 1 && s.endsWith(' ') && !symbolFreq.has(s.slice(0, -1))) symbolFreq.set(s.slice(0, -1), 0);
      }
      return syms;
    });
    const symbols = [...symbolFreq].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map(([s]) => s);
    const base = SYMBOL_BASE + symbols.length;
    const numMerges = options.merges ?? (options.vocabSize ?? NaN) - base;
    if (!Number.isInteger(numMerges) || numMerges < 0) {
      throw new RangeError(options.merges === undefined && options.vocabSize !== undefined
        ? `vocabulary size ${options.vocabSize} is below the base vocabulary of ${base} (4 specials, 256 bytes, ${symbols.length} symbols)`
        : 'give a vocabulary size or a non-negative integer number of merges');
    }
    const ids = new Map(symbols.map((s, i) => [s, SYMBOL_BASE + i]));
    const words = split.map((syms) => syms.map((s) => ids.get(s)!));
    const merges = learnMerges(words, [...counts.values()], numMerges, base, options.minFrequency ?? 2);
    return new Bpe(symbols, merges);
  }

  /** The number of token ids. */
  get vocabSize(): number { return this.pieces.length + SYMBOL_BASE; }

  /** Encodes text to token ids; decode gives the text back exactly. */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const w of splitWords(text)) {
      let ids = this.cache.get(w);
      if (ids === undefined) {
        ids = applyMerges(this.wordSymbols(w), this.table);
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(w, ids);
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /** Decodes ids to text: pad, bos and eos are dropped, unk becomes U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    let text = '';
    let bytes: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id >= BYTE_BASE && id < SYMBOL_BASE) { bytes.push(id - BYTE_BASE); continue; }
      if (bytes.length > 0) { text += this.utf8.decode(Uint8Array.from(bytes)); bytes = []; }
      if (id >= SYMBOL_BASE && id < this.vocabSize) text += this.pieces[id - SYMBOL_BASE]!;
      else if (id === UNK_ID) text += '\uFFFD';
      else if (!(Number.isInteger(id) && id >= 0 && id < BYTE_BASE)) throw new RangeError(`token id ${id} is outside the vocabulary`);
    }
    if (bytes.length > 0) text += this.utf8.decode(Uint8Array.from(bytes));
    return text;
  }

  /** The text of one token for display: specials as `<pad>` etc., bytes as `<0xNN>`. */
  tokenText(id: number): string {
    if (id >= 0 && id < BYTE_BASE) return SPECIAL_TOKENS[id]!;
    if (id >= BYTE_BASE && id < SYMBOL_BASE) return `<0x${(id - BYTE_BASE).toString(16).toUpperCase().padStart(2, '0')}>`;
    const piece = this.pieces[id - SYMBOL_BASE];
    if (piece === undefined) throw new RangeError(`token id ${id} is outside the vocabulary`);
    return piece;
  }

  /** The JSON form written by save. */
  toJSON(): BpeJson {
    return { format: BPE_FORMAT, version: BPE_VERSION, specials: [...SPECIAL_TOKENS], symbols: [...this.symbols], merges: this.merges.flat() };
  }

  /** Builds a tokenizer from its JSON form, checking it; `source` names it in errors. */
  static fromJSON(json: unknown, source = 'tokenizer'): Bpe {
    const fail = (msg: string): never => { throw new DataError(msg, source); };
    if (typeof json !== 'object' || json === null) return fail('not a tokenizer JSON object');
    const j = json as Partial<Record<keyof BpeJson, unknown>>;
    if (j.format !== BPE_FORMAT) return fail(`not an ${BPE_FORMAT} tokenizer (format ${showValue(j.format)})`);
    if (j.version !== BPE_VERSION) return fail(`tokenizer format version ${showValue(j.version)} is not supported (this build reads version ${BPE_VERSION})`);
    if (!Array.isArray(j.specials) || j.specials.length !== SPECIAL_TOKENS.length || j.specials.some((s, i) => s !== SPECIAL_TOKENS[i])) return fail(`specials must be ${JSON.stringify(SPECIAL_TOKENS)}`);
    const symbols = j.symbols, flat = j.merges;
    if (!Array.isArray(symbols) || !symbols.every((s) => typeof s === 'string' && s.length > 0)) return fail('symbols must be a list of non-empty strings');
    if (new Set(symbols).size !== symbols.length) return fail('symbols must be distinct');
    if (!Array.isArray(flat) || flat.length % 2 !== 0) return fail('merges must be a flat list of id pairs');
    const merges: Array<[number, number]> = [];
    for (let i = 0; i < flat.length; i += 2) {
      const limit = SYMBOL_BASE + symbols.length + i / 2;
      const [a, b] = [flat[i], flat[i + 1]];
      const ok = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= SYMBOL_BASE && (x as number) < limit;
      if (!ok(a) || !ok(b)) return fail(`merge ${i / 2} refers to ids outside ${SYMBOL_BASE}..${limit - 1}`);
      merges.push([a, b]);
    }
    return new Bpe(symbols as string[], merges);
  }

  /** Saves the tokenizer as one JSON file (written to a temporary file, then renamed). */
  async save(path: string): Promise<void> {
    await writeFileAtomic(path, JSON.stringify(this.toJSON()) + '\n');
  }

  /** Loads a tokenizer saved by save, with errors that name the file. */
  static async load(path: string): Promise<Bpe> {
    let text: string;
    try { text = await readFile(path, 'utf8'); } catch (err) {
      throw new DataError(`cannot read tokenizer: ${(err as Error).message}`, path);
    }
    let json: unknown;
    try { json = JSON.parse(text); } catch (err) { throw new DataError(`malformed tokenizer JSON: ${(err as Error).message}`, path); }
    return Bpe.fromJSON(json, path);
  }

  /** The initial token ids of a pre-token; unseen characters become their UTF-8 bytes. */
  private wordSymbols(word: string): number[] {
    const ids: number[] = [];
    for (const s of initialSymbols(word)) {
      const id = this.symbolIds.get(s);
      if (id !== undefined) { ids.push(id); continue; }
      const chars = s.length > 1 && s.endsWith(' ') && this.symbolIds.has(' ') ? [s.slice(0, -1), ' '] : [s];
      for (const c of chars) {
        const cid = this.symbolIds.get(c);
        if (cid !== undefined) ids.push(cid);
        else for (const byte of this.utf8Encoder.encode(c)) ids.push(BYTE_BASE + byte);
      }
    }
    return ids;
  }
}
