// Greedy decoding: at each step take the most probable token, for a batch of sentences at once.

import { maxLenOf, type IncrementalDecoder, type SearchOptions } from './types.js';

/** Decodes a batch greedily; returns each sentence's tokens without bos/eos. */
export function greedyDecode(model: IncrementalDecoder, batch: number, opts: SearchOptions): number[][] {
  const V = model.vocabSize;
  const out: number[][] = Array.from({ length: batch }, () => []);
  let live = Array.from({ length: batch }, (_, i) => i); // sentence index of each row
  let last = new Int32Array(batch).fill(opts.bos);
  const longest = Math.max(...live.map((i) => maxLenOf(opts, i)), 0);
  for (let t = 0; t < longest && live.length > 0; t++) {
    const logp = model.step(last);
    const keepRows: number[] = [];
    const next: number[] = [];
    live.forEach((s, r) => {
      let best = 0;
      for (let v = 1; v < V; v++) if (logp[r * V + v]! > logp[r * V + best]!) best = v;
      if (best === opts.eos) return;
      out[s]!.push(best);
      if (out[s]!.length < maxLenOf(opts, s)) { keepRows.push(r); next.push(best); }
    });
    if (keepRows.length !== live.length) {
      model.select(Int32Array.from(keepRows));
      live = keepRows.map((r) => live[r]!);
    }
    last = Int32Array.from(next);
  }
  return out;
}
