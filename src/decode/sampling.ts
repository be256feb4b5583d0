// Sampling with temperature, top-k and nucleus (top-p) truncation (Holtzman et al. 2020).

import { Rng } from '../tensor/random.js';
import { decodeStepwise } from './greedy.js';
import type { IncrementalDecoder, SearchOptions } from './types.js';

/** Sampling controls: temperature > 0, topK (0 = off), topP in (0, 1] (1 = off). */
export interface SamplingOptions extends SearchOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  rng?: Rng;
}

/** Draws one token id from a row of log-probabilities after temperature, top-k and top-p. */
export function sampleToken(logp: Float32Array, offset: number, V: number, opts: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP'>, rng: Rng): number {
  const temperature = opts.temperature ?? 1;
  if (!(temperature > 0)) throw new Error(`sampling: temperature must be > 0, got ${temperature}`);
  const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => logp[offset + b]! - logp[offset + a]!);
  const k = opts.topK !== undefined && opts.topK > 0 ? Math.min(opts.topK, V) : V;
  const top = order.slice(0, k);
  const mx = logp[offset + top[0]!]! / temperature;
  const weights = top.map((v) => Math.exp(logp[offset + v]! / temperature - mx));
  const total = weights.reduce((a, b) => a + b, 0);
  const topP = opts.topP ?? 1;
  let kept = top.length;
  if (topP < 1) {
    let acc = 0;
    for (let i = 0; i < top.length; i++) {
      acc += weights[i]! / total;
      if (acc >= topP) { kept = i + 1; break; }
    }
  }
  const mass = weights.slice(0, kept).reduce((a, b) => a + b, 0);
  let u = rng.uniform() * mass;
  for (let i = 0; i < kept; i++) {
    u -= weights[i]!;
    if (u < 0) return top[i]!;
  }
  return top[kept - 1]!;
}

/** Samples a batch of sentences; returns tokens without bos/eos. */
export function sampleDecode(model: IncrementalDecoder, batch: number, opts: SamplingOptions): Promise<number[][]> {
  const rng = opts.rng ?? new Rng(0);
  return decodeStepwise(model, batch, opts, async (logp, rows, V) => {
    const values = (await logp.data()) as Float32Array;
    return Array.from({ length: rows }, (_, r) => sampleToken(values, r * V, V, opts, rng));
  });
}
