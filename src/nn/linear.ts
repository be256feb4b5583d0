// Linear layer y = x W^T + b with PyTorch's layout (weight [out, in]); used for the projections of §3.2.2,
// the two layers of §3.3 and the pre-softmax transformation of §3.4.

import { Rng } from '../tensor/random.js';
import { linear } from '../tensor/ops/matmul.js';
import type { Tensor } from '../tensor/tensor.js';
import { uniformInit } from './init.js';
import { Module } from './module.js';

/** Options of Linear. */
export interface LinearOptions { bias?: boolean; rng?: Rng; }

/** y = x W^T + b over the last dim; weight [out, in] initialised like torch.nn.Linear. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    const rng = opts.rng ?? new Rng(0);
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.addParameter('weight', uniformInit([outFeatures, inFeatures], bound, rng));
    this.bias = (opts.bias ?? true) ? this.addParameter('bias', uniformInit([outFeatures], bound, rng)) : null;
  }

  /** (..., in) -> (..., out). */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

export { linear };
