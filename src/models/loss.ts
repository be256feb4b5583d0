// The training objective (§5.4): cross entropy against label-smoothed targets (eps_ls = 0.1 in the paper),
// averaged over the non-padding target tokens, and its gradient with respect to every parameter.

import { tidy } from '../tensor/memory.js';
import { crossEntropy } from '../tensor/ops/nn.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Transformer } from './transformer.js';

/** Options of lossAndGrads. */
export interface LossOptions { labelSmoothing?: number; padId: number; }

/** The loss value and the gradient of every parameter by name (the parameters' own .grad tensors). */
export interface LossAndGrads { loss: number; grads: Map<string, Tensor>; }

/** Mean label-smoothed cross entropy (pad targets ignored) of (B, T, V) logits against (B, T) int32 ids. */
export function transformerLoss(logits: Tensor, tgtOut: Tensor, opts: LossOptions): Tensor {
  return crossEntropy(logits, tgtOut, { ignoreIndex: opts.padId, labelSmoothing: opts.labelSmoothing ?? 0 });
}

/**
 * Zeroes the gradients, runs forward (padding from padId) and backward, and returns the loss and the
 * gradients: src (B, S), tgtIn (B, T) = target shifted right, tgtOut (B, T) = target, all int32.
 */
export function lossAndGrads(model: Transformer, src: Tensor, tgtIn: Tensor, tgtOut: Tensor, opts: LossOptions): LossAndGrads {
  model.zeroGrad();
  const loss = tidy(() => {
    const l = transformerLoss(model.forward(src, tgtIn, opts.padId), tgtOut, opts);
    l.backward();
    return l.item();
  });
  const grads = new Map<string, Tensor>();
  for (const [name, p] of model.namedParameters()) if (p.grad !== null) grads.set(name, p.grad);
  return { loss, grads };
}
