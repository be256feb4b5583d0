// Greedy decoding: at each step take the most probable token, for a batch of sentences at once. The loop
// (one live row per unfinished sentence, rows dropped at eos or max length) is shared with sampling.

import { maxLenOf, type IncrementalDecoder, type SearchOptions } from './types.js';

/** Chooses the next token of a row from its log-probabilities logp[offset .. offset + V). */
export type TokenPicker = (logp: Float32Array, offset: number, V: number) => number;

/** Runs the decoder one token at a time with `pick`; returns each sentence's tokens without bos/eos. */
export function decodeStepwise(model: IncrementalDecoder, batch: number, opts: SearchOptions, pick: TokenPicker): number[][] {
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
      const token = pick(logp, r * V, V);
      if (token === opts.eos) return;
      out[s]!.push(token);
      if (out[s]!.length < maxLenOf(opts, s)) { keepRows.push(r); next.push(token); }
    });
    if (keepRows.length !== live.length) {
      model.select(Int32Array.from(keepRows));
      live = keepRows.map((r) => live[r]!);
    }
    last = Int32Array.from(next);
  }
  return out;
}

/** The index of the largest value in logp[offset .. offset + V) (first on ties). */
export function argmaxRow(logp: Float32Array, offset: number, V: number): number {
  let best = 0;
  let top = logp[offset]!; // logp[offset + best], held so each element is read once
  for (let v = 1; v < V; v++) {
    const x = logp[offset + v]!;
    if (x > top) { best = v; top = x; }
  }
  return best;
}

/** Decodes a batch greedily; returns each sentence's tokens without bos/eos. */
export function greedyDecode(model: IncrementalDecoder, batch: number, opts: SearchOptions): number[][] {
  return decodeStepwise(model, batch, opts, argmaxRow);
}
