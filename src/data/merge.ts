// Applying ranked BPE merges to one word's symbols: always merge the adjacent pair of lowest rank, leftmost first.
import { PairHeap } from './heap.js';

/** A merge table: the rank of merging two adjacent tokens (-1 when they do not merge) and the token it makes. */
export interface MergeTable {
  /** Rank of the merge of `left` followed by `right`, or -1. Lower ranks merge first. */
  rankOf(left: number, right: number): number;
  /** The token that the merge of this rank produces. */
  tokenOf(rank: number): number;
}

/** A merge table given by explicit token pairs; merge i joins pairs[i] into mergedIds[i]. */
export class PairMergeTable implements MergeTable {
  private readonly ranks = new Map<number, number>();

  /** `pairs` lists the merges in priority order; `mergedIds[i]` is the token merge i produces. */
  constructor(pairs: ReadonlyArray<readonly [number, number]>, private readonly mergedIds: ArrayLike<number>) {
    pairs.forEach(([a, b], rank) => {
      const key = pairKey(a, b);
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
  }

  rankOf(left: number, right: number): number { return this.ranks.get(pairKey(left, right)) ?? -1; }

  tokenOf(rank: number): number { return this.mergedIds[rank]!; }
}

const PAIR_BASE = 0x4000000;

/** A collision-free number key for an ordered pair of token ids below 2^26. */
export function pairKey(a: number, b: number): number {
  return a * PAIR_BASE + b;
}

/** The pair of token ids that `pairKey` turned into `key`. */
export function pairOfKey(key: number): [number, number] {
  return [Math.floor(key / PAIR_BASE), key % PAIR_BASE];
}

/** Merges `symbols` (token ids of one word) with the table until no adjacent pair merges; O(n log n). */
export function applyMerges(symbols: number[], table: MergeTable): number[] {
  const n = symbols.length;
  if (n < 2) return symbols;
  const sym = symbols.slice();
  const next = new Int32Array(n), prev = new Int32Array(n);
  for (let i = 0; i < n; i++) { next[i] = i + 1; prev[i] = i - 1; }
  next[n - 1] = -1;
  const heap = new PairHeap();
  const offer = (i: number): void => {
    const j = next[i]!;
    if (i < 0 || j < 0) return;
    const rank = table.rankOf(sym[i]!, sym[j]!);
    if (rank >= 0) heap.push(rank, i);
  };
  for (let i = 0; i < n - 1; i++) offer(i);
  const dead = -2;
  while (heap.size > 0) {
    const rank = heap.peekKey()!, i = heap.peekTie()!;
    heap.pop();
    const j = next[i]!;
    if (prev[i] === dead || j < 0 || table.rankOf(sym[i]!, sym[j]!) !== rank) continue;
    sym[i] = table.tokenOf(rank);
    const after = next[j]!;
    next[i] = after;
    if (after >= 0) prev[after] = i;
    prev[j] = dead;
    offer(prev[i]!);
    offer(i);
  }
  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i]!) out.push(sym[i]!);
  return out;
}
