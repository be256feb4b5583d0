// Greedy decoding: at each step take the most probable token, for a batch of sentences at once. The loop
// (one live row per unfinished sentence, rows dropped at eos or max length) is shared with sampling.

import { tidy } from '../tensor/memory.js';
import { argmax } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import { maxLenOf, type IncrementalDecoder, type SearchOptions } from './types.js';

/** Chooses the next token of each of `rows` rows from their log-probabilities logp [rows, V] (on the backend). */
export type TokenPicker = (logp: Tensor, rows: number, V: number) => Promise<ArrayLike<number>>;

/** Runs the decoder one token at a time with `pick`; returns each sentence's tokens without bos/eos. */
export async function decodeStepwise(model: IncrementalDecoder, batch: number, opts: SearchOptions, pick: TokenPicker): Promise<number[][]> {
  const V = model.vocabSize;
  const out: number[][] = Array.from({ length: batch }, () => []);
  let live = Array.from({ length: batch }, (_, i) => i); // sentence index of each row
  let last = new Int32Array(batch).fill(opts.bos);
  const longest = Math.max(...live.map((i) => maxLenOf(opts, i)), 0);
  for (let t = 0; t < longest && live.length > 0; t++) {
    const logp = model.step(last);
    let tokens: ArrayLike<number>;
    try {
      tokens = await pick(logp, live.length, V);
    } finally {
      logp.dispose();
    }
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
 * on the backend's argmax, so only rows ids cross to the host (BENCHMARKS.md: greedy's argmax on the backend).
 */
export async function argmaxRows(logp: Tensor, rows: number, V: number): Promise<Int32Array> {
  const ids = tidy(() => argmax(logp.reshape([rows, V]), 1)); // (rows)
  try {
    return (await ids.data()) as Int32Array;
  } finally {
    ids.dispose();
  }
}

/** Decodes a batch greedily; returns each sentence's tokens without bos/eos. */
export function greedyDecode(model: IncrementalDecoder, batch: number, opts: SearchOptions): Promise<number[][]> {
  return decodeStepwise(model, batch, opts, argmaxRows);
}
