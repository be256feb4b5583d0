// Weight initialisation. The paper does not state one; aiayn follows PyTorch: Linear layers start like
// torch.nn.Linear (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias), and the Transformer then
// re-initialises every matrix with Glorot/Xavier uniform, as torch.nn.Transformer and its tutorial do.

import { rand, randn } from '../tensor/ops/create.js';
import type { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';

/** U(-bound, bound) of the given shape. */
export function uniformInit(shape: readonly number[], bound: number, rng: Rng): Tensor {
  return rand(shape, { low: -bound, high: bound, rng });
}

/** Glorot/Xavier uniform for a [fanOut, fanIn] matrix: U(-a, a), a = sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(shape: readonly [number, number], rng: Rng): Tensor {
  return uniformInit(shape, Math.sqrt(6 / (shape[0] + shape[1])), rng);
}

/** Writes Xavier-uniform values into an existing [fanOut, fanIn] parameter (in place, no autograd). */
export function xavierUniformInPlace(p: Tensor, rng: Rng): void {
  if (p.rank !== 2) throw new Error(`xavierUniformInPlace: expected a matrix, got rank ${p.rank}`);
  const a = Math.sqrt(6 / (p.shape[0]! + p.shape[1]!));
  const d = new Float32Array(p.size);
  for (let i = 0; i < d.length; i++) d[i] = -a + 2 * a * rng.uniform();
  p.assign(d);
}

/** N(0, 1) samples (torch.nn.Embedding's default). */
export function normalInit(shape: readonly number[], rng: Rng): Tensor {
  return randn(shape, { rng });
}

/** Writes N(0, std^2) values into an existing parameter (in place, no autograd), as GPT-2 initialises (std 0.02). */
export function normalInPlace(p: Tensor, std: number, rng: Rng): void {
  const d = new Float32Array(p.size);
  for (let i = 0; i < d.length; i++) d[i] = std * rng.normal();
  p.assign(d);
}
