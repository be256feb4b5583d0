// What the search algorithms need from a model: next-token log-probabilities for n live hypotheses, and a
// way to keep or duplicate hypotheses (beam reordering) so a key/value cache can follow them.

import type { Tensor } from '../tensor/tensor.js';

/** A model being decoded incrementally; it owns its cache (encoder memory, decoder keys/values). */
export interface IncrementalDecoder {
  /** Vocabulary size V. */
  readonly vocabSize: number;
  /**
   * Log-probabilities [n, V] of the next token for each hypothesis, given each one's last token, as a tensor on
   * the backend (the caller reads what it needs and disposes it).
   */
  step(lastTokens: Int32Array): Tensor;
  /** Keeps hypotheses by index (indices may repeat or drop rows); later steps see n = indices.length. */
  select(indices: Int32Array): void;
}

/** Special ids and length limits shared by the searches. */
export interface SearchOptions {
  bos: number;
  eos: number;
  /** Maximum number of generated tokens per sentence (eos included). */
  maxLen: number | readonly number[];
}

/** Max length for sentence i. */
export function maxLenOf(opts: SearchOptions, i: number): number {
  return typeof opts.maxLen === 'number' ? opts.maxLen : opts.maxLen[i]!;
}
