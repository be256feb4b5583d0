// The residual connection around each sub-layer (§3.1, §5.4): post-LN as in the paper,
// LayerNorm(x + Dropout(Sublayer(x))), or pre-LN, x + Dropout(Sublayer(LayerNorm(x))) (Xiong et al. 2020).

import type { Tensor } from '../tensor/tensor.js';
import type { Dropout } from './dropout.js';
import type { LayerNorm } from './layernorm.js';

/** Applies `sublayer` with residual dropout and the norm placed before (normFirst) or after the sum. */
export function residual(x: Tensor, norm: LayerNorm, dropout: Dropout, normFirst: boolean, sublayer: (y: Tensor) => Tensor): Tensor {
  if (normFirst) return x.add(dropout.forward(sublayer(norm.forward(x))));
  return norm.forwardSum(x, dropout.forward(sublayer(x)));
}
