// Position-wise feed-forward network (§3.3), eq. (2): FFN(x) = max(0, x W_1 + b_1) W_2 + b_2, applied to each
// position separately; inner size d_ff. GELU may replace ReLU: exact (erf, as BERT) or tanh-approximated (as GPT-2,
// Radford et al. 2019, and Hendrycks & Gimpel 2016 §2). Named linear1 / linear2 as in
// torch.nn.TransformerEncoderLayer; like it, dropout is applied to the hidden activation (off in eval mode).

import { reluDropout } from '../tensor/ops/nn.js';
import type { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/** Activation of the feed-forward hidden layer: ReLU, exact GELU, or GELU's tanh approximation. */
export type Activation = 'relu' | 'gelu' | 'gelu-tanh';

/** Two linear maps with an activation between: (B, T, d_model) -> (B, T, d_model). */
export class PositionwiseFeedForward extends Module {
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly dropout: Dropout;

  constructor(dModel: number, dFF: number, readonly activation: Activation, dropout: number, rng: Rng) {
    super();
    this.linear1 = this.addModule('linear1', new Linear(dModel, dFF, { rng })); // W_1, b_1
    this.dropout = this.addModule('dropout', new Dropout(dropout, rng));
    this.linear2 = this.addModule('linear2', new Linear(dFF, dModel, { rng })); // W_2, b_2
  }

  /** (B, T, d_model) -> (B, T, d_model). */
  forward(x: Tensor): Tensor {
    const hidden = this.linear1.forward(x); // (B, T, d_ff)
    const dropped = this.activation === 'relu'
      ? reluDropout(hidden, this.dropout.p, this.dropout.training, this.dropout.rng) // one pass: max(0, .) and the mask
      : this.dropout.forward(hidden.gelu(this.activation === 'gelu-tanh' ? 'tanh' : 'none'));
    return this.linear2.forward(dropped); // (B, T, d_model)
  }
}
