// Layer normalisation (Ba et al. 2016), applied around every sub-layer: LayerNorm(x + Sublayer(x)) (§3.1).

import { full } from '../tensor/ops/elementwise.js';
import { zeros } from '../tensor/ops/create.js';
import { addLayerNorm, layerNorm } from '../tensor/ops/nn.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** LayerNorm over the last dim with gain `weight` (ones) and bias (zeros), as torch.nn.LayerNorm. */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = this.addParameter('weight', full([dim], 1));
    this.bias = this.addParameter('bias', zeros([dim]));
  }

  /** (..., dim) -> (..., dim). */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }

  /** LayerNorm(x + y) in one pass, for a residual connection (§3.1). */
  forwardSum(x: Tensor, y: Tensor): Tensor {
    return addLayerNorm(x, y, this.weight, this.bias, this.eps);
  }
}
