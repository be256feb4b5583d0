// Learning BPE merges (Sennrich et al. 2016) with incremental pair counts: after each merge only the words that
// contain the merged pair are revisited, and a lazy max-heap finds the next most frequent pair.
import { PairHeap } from './heap.js';
import { pairKey, pairOfKey } from './merge.js';

/**
 * Learns up to `numMerges` merges over words given as symbol ids (rewritten in place); merge i creates token
 * `firstId + i`, or `mergedId(a, b)` when given (which may name an existing token whose text the merge repeats).
 */
export function learnMerges(
  words: number[][], freqs: number[], numMerges: number, firstId: number, minFrequency: number,
  mergedId?: (a: number, b: number) => number,
): Array<[number, number]> {
  const counts = new Map<number, number>();
  const wordsOf = new Map<number, Set<number>>();
  const heap = new PairHeap();
  words.forEach((w, wi) => addPairs(w, freqs[wi]!, wi, counts, wordsOf));
  // Max-heap via negated counts; among equal counts the smaller pair key wins, which keeps learning deterministic.
  for (const [key, c] of counts) heap.push(-c, key);
  const merges: Array<[number, number]> = [];
  while (merges.length < numMerges && heap.size > 0) {
    const count = -heap.peekKey()!, key = heap.peekTie()!;
    heap.pop();
    if (counts.get(key) !== count) continue;
    if (count < minFrequency) break;
    const [a, b] = pairOfKey(key);
    const merged = mergedId === undefined ? firstId + merges.length : mergedId(a, b);
    merges.push([a, b]);
    const delta = new Map<number, number>();
    for (const wi of wordsOf.get(key) ?? []) {
      const w = words[wi]!, f = freqs[wi]!;
      const replaced = mergePair(w, a, b, merged);
      if (replaced === w) continue;
      addPairs(w, -f, -1, delta, undefined);
      addPairs(replaced, f, -1, delta, undefined);
      addPairs(replaced, 0, wi, undefined, wordsOf);
      words[wi] = replaced;
    }
    wordsOf.delete(key);
    counts.delete(key);
    for (const [k, d] of delta) {
      if (d === 0 || k === key) continue;
      const c = (counts.get(k) ?? 0) + d;
      if (c > 0) { counts.set(k, c); heap.push(-c, k); } else counts.delete(k);
    }
  }
  return merges;
}

/** Adds `freq` for each adjacent pair of `w` to `counts` and records word `wi` under each pair in `wordsOf`. */
function addPairs(
  w: number[], freq: number, wi: number, counts: Map<number, number> | undefined, wordsOf: Map<number, Set<number>> | undefined,
): void {
  for (let i = 0; i + 1 < w.length; i++) {
    const key = pairKey(w[i]!, w[i + 1]!);
    if (counts) counts.set(key, (counts.get(key) ?? 0) + freq);
    if (wordsOf) {
      let set = wordsOf.get(key);
      if (!set) wordsOf.set(key, set = new Set());
      set.add(wi);
    }
  }
}

/** Replaces every non-overlapping occurrence of (a, b), left to right, by `merged`; returns `w` itself if none. */
function mergePair(w: number[], a: number, b: number, merged: number): number[] {
  let out: number[] | undefined;
  for (let i = 0; i < w.length; i++) {
    if (w[i] === a && w[i + 1] === b) {
      out ??= w.slice(0, i);
      out.push(merged);
      i++;
    } else if (out) out.push(w[i]!);
  }
  return out ?? w;
}
