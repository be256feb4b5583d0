// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_: every gradient is scaled by
// min(1, maxNorm / (norm + 1e-6)) where norm is the L2 norm of all gradients seen as one vector. The paper (§5)
// does not clip; it is a common safeguard for small-batch or long runs.

import { noGrad } from '../tensor/autograd.js';
import { keep, tidy } from '../tensor/memory.js';
import { add } from '../tensor/ops/elementwise.js';
import { sumSquares } from '../tensor/ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';

/** The global L2 norm of the gradients of `params` seen as one vector (one sum of squares per gradient, one read). */
export async function gradNorm(params: Iterable<Tensor>): Promise<number> {
  const grads = [...params].map((p) => p.grad).filter((g): g is Tensor => g !== null && !g.isDisposed);
  if (grads.length === 0) return 0;
  const squares = tidy(() => noGrad(() => grads.map((g) => sumSquares(g)).reduce((a, b) => add(a, b))));
  const total = await squares.itemAsync();
  squares.dispose();
  return Math.sqrt(total);
}

/** Scales the gradients of `params` so their global L2 norm is at most maxNorm; returns the norm before clipping. */
export async function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): Promise<number> {
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  const list = [...params];
  const norm = await gradNorm(list);
  // A non-finite norm is returned unapplied (torch would turn the grads into NaN) so the caller can skip the step.
  if (!Number.isFinite(norm)) return norm;
  const coef = Math.fround(maxNorm / (norm + 1e-6)); // float32 like torch's clip_coef tensor
  if (coef >= 1) return norm;
  for (const p of list) {
    const g = p.grad;
    if (g === null || g.isDisposed) continue;
    p.grad = keep(tidy(() => noGrad(() => g.mul(coef))));
    g.dispose();
  }
  return norm;
}
