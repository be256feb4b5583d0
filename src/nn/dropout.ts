// Dropout (Srivastava et al. 2014), used on sub-layer outputs and on embedding + PE sums (§5.4, P_drop).

import { dropout } from '../tensor/ops/nn.js';
import { globalRng, type Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** Inverted dropout with probability p from a seeded generator; the identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p: number, readonly rng: Rng = globalRng) {
    super();
  }

  /** Same shape as x. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.rng);
  }
}
