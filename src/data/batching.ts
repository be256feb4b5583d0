// Token-count batching for translation: length-bucketed batches capped by padded source and target tokens
// (the paper used ~25k + ~25k), shuffled per epoch from a seed, in memory or streamed from a large corpus.
import { BOS_ID, EOS_ID, PAD_ID } from './bpe.js';
import type { LinePair } from './files.js';
import { mixSeed, seededRandom, shuffleInPlace } from './random.js';

/** One training pair as token ids, without bos/eos. */
export interface Example { src: ArrayLike<number>; tgt: ArrayLike<number>; }

/** A padded batch, row-major. src = ids + eos; tgtIn = bos + ids; tgtOut = ids + eos; masks are 1 on real tokens. */
export interface TranslationBatch {
  B: number; S: number; T: number;
  /** [B, S] source ids. */ src: Int32Array;
  /** [B, T] decoder inputs. */ tgtIn: Int32Array;
  /** [B, T] decoder targets. */ tgtOut: Int32Array;
  /** [B, S] 1 where src is not padding. */ srcMask: Uint8Array;
  /** [B, T] 1 where tgtIn/tgtOut are not padding. */ tgtMask: Uint8Array;
  /** Non-pad tokens in src and in tgtOut. */ srcTokens: number; tgtTokens: number;
  /** Which examples (indices into the batcher's list, or the stream buffer) the rows hold. */ indices: number[];
}

/** Batch caps (padded tokens per side, default 25000 each), the shuffle seed and the special ids (default 0/1/2). */
export interface BatchOptions {
  maxSrcTokens?: number; maxTgtTokens?: number; seed?: number;
  padId?: number; bosId?: number; eosId?: number;
}

/** A [T, T] mask, 1 where query i may attend to key j (j <= i). */
export function causalMask(T: number): Uint8Array {
  const mask = new Uint8Array(T * T);
  for (let i = 0; i < T; i++) mask.fill(1, i * T, i * T + i + 1);
  return mask;
}

/** Groups examples into batches: sorted by length with random tie-breaks, filled up to the caps, batch order shuffled. */
function planBatches(examples: readonly Example[], options: BatchOptions, random: () => number): number[][] {
  const maxSrc = options.maxSrcTokens ?? 25000, maxTgt = options.maxTgtTokens ?? 25000;
  const tie = Float64Array.from(examples, () => random());
  const order = examples.map((_, i) => i).sort((a, b) =>
    examples[a]!.src.length - examples[b]!.src.length || examples[a]!.tgt.length - examples[b]!.tgt.length || tie[a]! - tie[b]!);
  const batches: number[][] = [];
  let batch: number[] = [];
  let S = 0, T = 0;
  for (const i of order) {
    const s = examples[i]!.src.length + 1, t = examples[i]!.tgt.length + 1;
    const nextS = Math.max(S, s), nextT = Math.max(T, t);
    if (batch.length > 0 && ((batch.length + 1) * nextS > maxSrc || (batch.length + 1) * nextT > maxTgt)) {
      batches.push(batch);
      batch = []; S = s; T = t;
    } else { S = nextS; T = nextT; }
    batch.push(i);
  }
  if (batch.length > 0) batches.push(batch);
  return shuffleInPlace(batches, random);
}

/** Pads the chosen examples into one batch. */
function buildBatch(examples: readonly Example[], indices: number[], options: BatchOptions): TranslationBatch {
  const pad = options.padId ?? PAD_ID, bos = options.bosId ?? BOS_ID, eos = options.eosId ?? EOS_ID;
  const B = indices.length;
  let S = 0, T = 0;
  for (const i of indices) { S = Math.max(S, examples[i]!.src.length + 1); T = Math.max(T, examples[i]!.tgt.length + 1); }
  const src = new Int32Array(B * S).fill(pad), tgtIn = new Int32Array(B * T).fill(pad), tgtOut = new Int32Array(B * T).fill(pad);
  const srcMask = new Uint8Array(B * S), tgtMask = new Uint8Array(B * T);
  let srcTokens = 0, tgtTokens = 0;
  indices.forEach((ex, row) => {
    const { src: s, tgt: t } = examples[ex]!;
    src.set(s, row * S); src[row * S + s.length] = eos; srcMask.fill(1, row * S, row * S + s.length + 1);
    tgtIn[row * T] = bos; tgtIn.set(t, row * T + 1);
    tgtOut.set(t, row * T); tgtOut[row * T + t.length] = eos; tgtMask.fill(1, row * T, row * T + t.length + 1);
    srcTokens += s.length + 1; tgtTokens += t.length + 1;
  });
  return { B, S, T, src, tgtIn, tgtOut, srcMask, tgtMask, srcTokens, tgtTokens, indices };
}

/** Batches an in-memory list of examples; epoch e's batches depend only on the seed and e. */
export class TokenBatcher {
  constructor(readonly examples: readonly Example[], readonly options: BatchOptions = {}) {}

  /** The batches of one epoch, as lists of example indices. */
  plan(epoch: number): number[][] {
    return planBatches(this.examples, this.options, seededRandom(mixSeed(this.options.seed ?? 0, epoch)));
  }

  /** The padded batch of the examples at `indices` (one entry of a plan). */
  batch(indices: number[]): TranslationBatch {
    return buildBatch(this.examples, indices, this.options);
  }

  /** The non-pad target tokens (ids + eos) of the examples at `indices`, as their padded batch would count them. */
  targetTokens(indices: readonly number[]): number {
    return indices.reduce((n, i) => n + this.examples[i]!.tgt.length + 1, 0);
  }

  /** Yields the padded batches of one epoch. */
  *batches(epoch: number): Generator<TranslationBatch> {
    for (const indices of this.plan(epoch)) yield this.batch(indices);
  }
}

/** The rows of a global batch that `rank` of `size` data-parallel processes takes: a contiguous, disjoint share, sizes differing by at most one. */
export function rankShare<T>(rows: readonly T[], rank: number, size: number): T[] {
  const start = (n: number) => Math.floor((rows.length * n) / size);
  return rows.slice(start(rank), start(rank + 1));
}

/**
 * Batches a stream of examples too large for memory: reads `bufferSize` examples at a time (default 100000) and
 * batches each buffer like TokenBatcher; the same seed and epoch give the same batches.
 */
export async function* streamBatches(
  source: AsyncIterable<Example>, options: BatchOptions & { bufferSize?: number; epoch?: number } = {},
): AsyncGenerator<TranslationBatch> {
  const bufferSize = options.bufferSize ?? 100000;
  let buffer: Example[] = [];
  let chunk = 0;
  const flush = function* (): Generator<TranslationBatch> {
    const random = seededRandom(mixSeed(options.seed ?? 0, options.epoch ?? 0, chunk++));
    for (const indices of planBatches(buffer, options, random)) yield buildBatch(buffer, indices, options);
    buffer = [];
  };
  for await (const example of source) {
    buffer.push(example);
    if (buffer.length >= bufferSize) yield* flush();
  }
  if (buffer.length > 0) yield* flush();
}

/** Turns line pairs into examples with a tokenizer (anything with `encode(text): number[]`). */
export async function* encodePairs(
  pairs: AsyncIterable<LinePair>, tokenizer: { encode(text: string): number[] },
): AsyncGenerator<Example> {
  for await (const { src, tgt } of pairs) {
    yield { src: Int32Array.from(tokenizer.encode(src)), tgt: Int32Array.from(tokenizer.encode(tgt)) };
  }
}
