// One optimizer update after a backward pass, as every trainer takes it: the global gradient norm (clipped when
// asked; it is the finiteness check too), the non-finite guard's verdict on it and the step's loss, the step, and
// the gradients cleared.

import type { Tensor } from '../tensor/tensor.js';
import { clipGradNorm } from './clip.js';
import type { NonfiniteGuard, StepVerdict } from './nonfinite.js';
import type { Adam } from './optim.js';

/** What one update saw. */
export interface UpdateResult { loss: number; gradNorm: number; verdict: StepVerdict; }

/** Clips to clipNorm (0: no clipping), steps the optimizer unless the guard objects to `loss` or the norm, clears the gradients. */
export async function guardedUpdate(loss: number, optimizer: Adam, guard: NonfiniteGuard, named: ReadonlyArray<[string, Tensor]>, clipNorm: number): Promise<UpdateResult> {
  // An infinite maxNorm computes the norm (the finiteness check) and clips nothing.
  const gradNorm = await clipGradNorm(optimizer.params, clipNorm > 0 ? clipNorm : Infinity);
  const verdict = await guard.check(loss, gradNorm, named);
  if (verdict.ok) optimizer.step();
  optimizer.zeroGrad();
  return { loss, gradNorm, verdict };
}
