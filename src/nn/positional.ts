// Positional encodings (§3.5). Sinusoidal: PE(pos, 2i) = sin(pos / 10000^(2i/d_model)),
// PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)), sin and cos interleaved. For any offset k, PE(pos + k) is a
// fixed linear map M_k of PE(pos) (block-diagonal 2x2 rotations), which is why the paper chose it.
// Learned: a trained [maxLen, d_model] table, the ablation of Table 3 row (E).

import { normalInit } from './init.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** The angular frequency of pair i: w_i = 1 / 10000^(2i / dModel). */
export function frequency(i: number, dModel: number): number {
  return Math.pow(10000, (-2 * i) / dModel);
}

/** The sinusoidal table [maxLen, dModel] in float64, row pos = PE(pos). */
export function sinusoidalTable(maxLen: number, dModel: number): Float64Array {
  if (dModel % 2 !== 0) throw new Error(`sinusoidalTable: d_model must be even, got ${dModel}`);
  const pe = new Float64Array(maxLen * dModel);
  for (let pos = 0; pos < maxLen; pos++) {
    for (let i = 0; i < dModel / 2; i++) {
      const angle = pos * frequency(i, dModel);
      pe[pos * dModel + 2 * i] = Math.sin(angle);
      pe[pos * dModel + 2 * i + 1] = Math.cos(angle);
    }
  }
  return pe;
}

/**
 * M_k [dModel, dModel] (row-major float64) with PE(pos + k) = M_k PE(pos) for every pos: block diagonal,
 * block i = [[cos(k w_i), sin(k w_i)], [-sin(k w_i), cos(k w_i)]] acting on (sin, cos) of pair i.
 */
export function offsetMatrix(k: number, dModel: number): Float64Array {
  const m = new Float64Array(dModel * dModel);
  for (let i = 0; i < dModel / 2; i++) {
    const c = Math.cos(k * frequency(i, dModel));
    const s = Math.sin(k * frequency(i, dModel));
    const r = 2 * i;
    m[r * dModel + r] = c;
    m[r * dModel + r + 1] = s;
    m[(r + 1) * dModel + r] = -s;
    m[(r + 1) * dModel + r + 1] = c;
  }
  return m;
}

/** What every positional encoding offers: x + PE(offset .. offset + T). */
export interface PositionalEncoder extends Module {
  /** (B, T, d) -> (B, T, d), positions starting at `offset` (for incremental decoding). */
  forward(x: Tensor, offset?: number): Tensor;
  /** The [maxLen, d] table whose row pos is added at position pos. */
  table(): Tensor;
}

function checkLength(name: string, offset: number, t: number, maxLen: number): void {
  if (offset + t > maxLen) throw new Error(`${name}: positions ${offset}..${offset + t - 1} exceed maxLen ${maxLen}`);
}

/** Adds the fixed sinusoidal table (a non-persistent buffer `pe` [maxLen, d]). */
export class SinusoidalPositionalEncoding extends Module implements PositionalEncoder {
  readonly pe: Tensor;

  constructor(readonly dModel: number, readonly maxLen: number) {
    super();
    const pe = Tensor.fromHost(Float32Array.from(sinusoidalTable(maxLen, dModel)), [maxLen, dModel]);
    this.pe = this.addBuffer('pe', pe, false);
  }

  /** (B, T, d) -> (B, T, d). */
  forward(x: Tensor, offset = 0): Tensor {
    const t = x.shape[x.rank - 2]!;
    checkLength('SinusoidalPositionalEncoding', offset, t, this.maxLen);
    return x.add(this.pe.slice(0, offset, offset + t)); // (T, d) broadcast over B
  }

  /** The sinusoidal table `pe`. */
  table(): Tensor { return this.pe; }
}

/** Adds a learned table `weight` [maxLen, d] (Table 3 row E). */
export class LearnedPositionalEncoding extends Module implements PositionalEncoder {
  readonly weight: Tensor;

  constructor(readonly dModel: number, readonly maxLen: number, rng: Rng = new Rng(0)) {
    super();
    this.weight = this.addParameter('weight', normalInit([maxLen, dModel], rng));
  }

  /** (B, T, d) -> (B, T, d). */
  forward(x: Tensor, offset = 0): Tensor {
    const t = x.shape[x.rank - 2]!;
    checkLength('LearnedPositionalEncoding', offset, t, this.maxLen);
    return x.add(this.weight.slice(0, offset, offset + t)); // (T, d) broadcast over B
  }

  /** The learned table `weight`. */
  table(): Tensor { return this.weight; }
}
