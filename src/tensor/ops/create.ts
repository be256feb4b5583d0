// Creating tensors: from JavaScript data, filled, random (seeded), ranges.

import { fmt, sizeOf } from '../layout.js';
import { globalRng, type Rng } from '../random.js';
import type { DType } from '../storage.js';
import { Tensor } from '../tensor.js';
import { full } from './elementwise.js';

type Nested = number | Nested[];

function flatten(data: Nested, shape: number[], out: number[], depth: number): void {
  if (typeof data === 'number') {
    if (depth !== shape.length) throw new Error('tensor: ragged nested array');
    out.push(data);
    return;
  }
  if (depth === shape.length) shape.push(data.length);
  else if (shape[depth] !== data.length) throw new Error(`tensor: ragged nested array (length ${data.length} vs ${shape[depth]} at depth ${depth})`);
  for (const d of data) flatten(d, shape, out, depth + 1);
}

/** A tensor from nested arrays or a flat array/typed array plus a shape. */
export function tensor(data: Nested | ArrayLike<number>, shape?: readonly number[], dtype: DType = 'float32'): Tensor {
  let flat: ArrayLike<number>;
  let dims: number[];
  if (shape !== undefined) {
    const nested: number[] = [];
    if (Array.isArray(data)) flatten(data, [], nested, 0);
    flat = typeof data === 'number' ? [data] : Array.isArray(data) ? nested : (data as ArrayLike<number>);
    dims = [...shape];
    if (sizeOf(dims) !== flat.length) throw new Error(`tensor: ${flat.length} values do not fill shape ${fmt(dims)}`);
  } else if (ArrayBuffer.isView(data)) {
    flat = data as unknown as ArrayLike<number>;
    dims = [flat.length];
  } else {
    const out: number[] = [];
    dims = [];
    flatten(data as Nested, dims, out, 0);
    flat = out;
  }
  if (dtype === 'int32') {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isInteger(flat[i])) throw new Error(`tensor: int32 value ${flat[i]} at ${i} is not an integer`);
    }
  }
  return Tensor.fromHost(dtype === 'int32' ? Int32Array.from(flat) : Float32Array.from(flat), dims);
}

/** A float32 tensor of zeros. */
export function zeros(shape: readonly number[]): Tensor { return Tensor.empty(shape, 'float32', true); }
/** A float32 tensor of ones. */
export function ones(shape: readonly number[]): Tensor { return full(shape, 1); }

/** Normal samples with mean and std from a seeded generator. */
export function randn(shape: readonly number[], opts: { mean?: number; std?: number; rng?: Rng } = {}): Tensor {
  const rng = opts.rng ?? globalRng;
  const { mean = 0, std = 1 } = opts;
  const d = new Float32Array(sizeOf(shape));
  for (let i = 0; i < d.length; i++) d[i] = mean + std * rng.normal();
  return Tensor.fromHost(d, shape);
}

/** Uniform samples in [low, high) from a seeded generator. */
export function rand(shape: readonly number[], opts: { low?: number; high?: number; rng?: Rng } = {}): Tensor {
  const rng = opts.rng ?? globalRng;
  const { low = 0, high = 1 } = opts;
  const d = new Float32Array(sizeOf(shape));
  for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * rng.uniform();
  return Tensor.fromHost(d, shape);
}

/** 0, 1, ..., n-1 (float32 by default). */
export function arange(n: number, dtype: DType = 'float32'): Tensor {
  const values = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = i;
  return Tensor.fromHost(values, [n]);
}
