// The training loss: cross entropy with label smoothing of value eps (§5.4: eps_ls = 0.1), padding ignored,
// and lossAndGrads, which returns it with the gradient of every parameter of a Transformer.
// Smoothing follows PyTorch (label_smoothing): the target gets 1 - eps + eps / V and every class eps / V,
// pad included; some reimplementations spread eps over V - 2 classes instead, excluding pad and the target.

import type { Transformer } from '../models/transformer.js';
import { crossEntropy, tidy, type Tensor } from '../tensor/index.js';

/** Options of labelSmoothedLoss: the smoothing value and the target id that marks padding. */
export interface LabelSmoothingOptions {
  /** Label smoothing eps_ls (default 0.1, §5.4). */
  eps?: number;
  /** Targets equal to this id contribute nothing to the loss or its gradient. */
  padId: number;
}

/** Mean label-smoothed cross entropy of logits [..., V] against int32 targets [...] over the non-pad targets (NaN if all are pad). */
export function labelSmoothedLoss(logits: Tensor, targets: Tensor, { eps = 0.1, padId }: LabelSmoothingOptions): Tensor {
  return crossEntropy(logits, targets, { ignoreIndex: padId, labelSmoothing: eps });
}

/** Options of lossAndGrads: label smoothing (default 0.1) and the pad id. */
export interface LossOptions { labelSmoothing?: number; padId: number; }

/** The loss value and the gradient of every parameter by name (the parameters' own .grad tensors). */
export interface LossAndGrads { loss: number; grads: Map<string, Tensor>; }

/**
 * Zeroes the gradients, runs forward (padding from padId) and backward of the label-smoothed loss, and returns
 * the loss and the gradients: src (B, S), tgtIn (B, T) = target shifted right, tgtOut (B, T) = target, int32.
 */
export async function lossAndGrads(model: Transformer, src: Tensor, tgtIn: Tensor, tgtOut: Tensor, opts: LossOptions): Promise<LossAndGrads> {
  model.zeroGrad();
  const lossTensor = tidy(() => {
    const l = model.loss(src, tgtIn, tgtOut, { padId: opts.padId, labelSmoothing: opts.labelSmoothing ?? 0.1 });
    l.backward();
    return l;
  });
  const loss = await lossTensor.itemAsync();
  lossTensor.dispose();
  const grads = new Map<string, Tensor>();
  for (const [name, p] of model.namedParameters()) if (p.grad !== null) grads.set(name, p.grad);
  return { loss, grads };
}
