// A binary min-heap of (key, tie) number pairs, ordered by key and then by tie; used by BPE learning and merging.

/** A min-heap of number pairs: pops the smallest key, the smallest tie among equal keys. */
export class PairHeap {
  private keys: number[] = [];
  private ties: number[] = [];

  /** How many entries the heap holds. */
  get size(): number { return this.keys.length; }

  /** The key of the smallest entry (undefined when empty). */
  peekKey(): number | undefined { return this.keys[0]; }

  /** The tie value of the smallest entry (undefined when empty). */
  peekTie(): number | undefined { return this.ties[0]; }

  /** Adds an entry. */
  push(key: number, tie: number): void {
    const keys = this.keys, ties = this.ties;
    let i = keys.length;
    keys.push(key); ties.push(tie);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(key, tie, keys[parent]!, ties[parent]!)) break;
      keys[i] = keys[parent]!; ties[i] = ties[parent]!;
      i = parent;
    }
    keys[i] = key; ties[i] = tie;
  }

  /** Removes the smallest entry (call peekKey/peekTie first to read it). */
  pop(): void {
    const keys = this.keys, ties = this.ties;
    const lastKey = keys.pop()!, lastTie = ties.pop()!;
    const n = keys.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.less(keys[child + 1]!, ties[child + 1]!, keys[child]!, ties[child]!)) child++;
      if (!this.less(keys[child]!, ties[child]!, lastKey, lastTie)) break;
      keys[i] = keys[child]!; ties[i] = ties[child]!;
      i = child;
    }
    keys[i] = lastKey; ties[i] = lastTie;
  }

  private less(k1: number, t1: number, k2: number, t2: number): boolean {
    return k1 < k2 || (k1 === k2 && t1 < t2);
  }
}
