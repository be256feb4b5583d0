// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_: every gradient is scaled by
// min(1, maxNorm / (norm + 1e-6)) where norm is the L2 norm of all gradients seen as one vector. The paper (§5)
// does not clip; it is a common safeguard for small-batch or long runs.

import type { Tensor } from '../tensor/index.js';

/** Scales the gradients of `params` in place so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  const grads: Float32Array[] = [];
  for (const p of params) {
    const g = p.grad;
    if (g === null || g.isDisposed) continue;
    if (!g.isContiguous()) throw new Error(`clipGradNorm: grad of shape [${g.shape.join(', ')}] is not contiguous`);
    grads.push(g.data.subarray(g.offset, g.offset + g.size));
  }
  let sumSquares = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sumSquares += g[i]! * g[i]!;
  const norm = Math.sqrt(sumSquares);
  // A non-finite norm is returned unapplied (torch would turn the grads into NaN) so the caller can skip the step.
  if (!Number.isFinite(norm)) return norm;
  const coef = Math.fround(maxNorm / (norm + 1e-6)); // float32 like torch's clip_coef tensor
  if (coef >= 1) return norm;
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  return norm;
}
