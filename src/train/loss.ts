// The training loss: cross entropy with label smoothing of value eps (§5.4: eps_ls = 0.1), padding ignored.
// Smoothing follows PyTorch (label_smoothing): the target gets 1 - eps + eps / V and every class eps / V,
// pad included; some reimplementations spread eps over V - 2 classes instead, excluding pad and the target.

import { crossEntropy, type Tensor } from '../tensor/index.js';

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
