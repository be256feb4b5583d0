// Greedy decoding: at each step take the most probable token, for a batch of sentences at once. The loop
// (one live row per unfinished sentence, rows dropped at eos or max length) is shared with sampling.

import { getBackend } from '../backend/index.js';
import { maxLenOf, type IncrementalDecoder, type SearchOptions } from './types.js';

/** Chooses the next token of each of `rows` rows from their log-probabilities logp [rows, V]. */
export type TokenPicker = (logp: Float32Array, rows: number, V: number) => ArrayLike<number>;

/** Runs the decoder one token at a time with `pick`; returns each sentence's tokens without bos/eos. */
export function decodeStepwise(model: IncrementalDecoder, batch: number, opts: SearchOptions, pick: TokenPicker): number[][] {
  const V = model.vocabSize;
  const out: number[][] = Array.from({ length: batch }, () => []);
  let live = Array.from({ length: batch }, (_, i) => i); // sentence index of each row
  let last = new Int32Array(batch).fill(opts.bos);
  const longest = Math.max(...live.map((i) => maxLenOf(opts, i)), 0);
  for (let t = 0; t < longest && live.length > 0; t++) {
    const logp = model.step(last);
    const tokens = pick(logp, live.length, V);
    const keepRows: number[] = [];
    const next: number[] = [];
    live.forEach((s, r) => {
      const token = tokens[r]!;
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

/**
 * The index of the largest value of each row of logp [rows, V] (the first on ties, NaN never taken over a number),
 * on the backend's argmax: 8000 values a row take the native loop ~3 us, a JavaScript loop 8-13.
 */
export function argmaxRows(logp: Float32Array, rows: number, V: number): Int32Array {
  const out = new Int32Array(rows);
  getBackend().argmax(logp.subarray(0, rows * V), rows, V, 1, out);
  return out;
}

/** Decodes a batch greedily; returns each sentence's tokens without bos/eos. */
export function greedyDecode(model: IncrementalDecoder, batch: number, opts: SearchOptions): number[][] {
  return decodeStepwise(model, batch, opts, argmaxRows);
}
