// What a training step does when its loss or gradients are not finite: the step's loss and the global gradient
// norm (the reduction clipping needs anyway) are checked; a bad step's update is skipped and counted, and after
// `maxSkips` bad steps in a row (or at the first one under the 'stop' policy) training stops, naming the first
// parameter whose gradient is not finite. Nothing here runs an extra pass over the gradients on a good step.

import type { Tensor } from '../tensor/index.js';
import { findNonfinite } from '../io/validate.js';

/** What to do on a non-finite step: skip its update (the default), or stop training at once. */
export type NonfinitePolicy = 'skip' | 'stop';

/** The policy's settings. */
export interface NonfiniteGuardOptions { policy?: NonfinitePolicy; /** Bad steps in a row before stopping (default 5). */ maxSkips?: number; }

/** What the guard decided about one step. */
export type StepVerdict = { ok: true } | { ok: false; stop: boolean; firstBadGradient: string | null; inARow: number };

/** Parses the --on-nonfinite value. */
export function parseNonfinitePolicy(value: string): NonfinitePolicy {
  if (value !== 'skip' && value !== 'stop') throw new Error(`--on-nonfinite must be 'skip' or 'stop', got '${value}'`);
  return value;
}

/** Counts non-finite steps and decides, per step, whether to apply the update, skip it or stop. */
export class NonfiniteGuard {
  readonly policy: NonfinitePolicy;
  readonly maxSkips: number;
  /** Updates skipped since training (or this resume) began. */
  skipped = 0;
  private inARow = 0;

  constructor(options: NonfiniteGuardOptions = {}) {
    this.policy = options.policy ?? 'skip';
    this.maxSkips = options.maxSkips ?? 5;
    if (!Number.isInteger(this.maxSkips) || this.maxSkips < 1) throw new Error(`the number of non-finite steps in a row before stopping must be a positive integer, got ${this.maxSkips}`);
  }

  /**
   * Judges a step from its loss and global gradient norm. Only a bad step reads the gradients again, to name
   * the first parameter (in `named` order) whose gradient holds NaN or Inf.
   */
  async check(loss: number, gradNorm: number, named: ReadonlyArray<readonly [string, Tensor]>): Promise<StepVerdict> {
    if (Number.isFinite(loss) && Number.isFinite(gradNorm)) {
      this.inARow = 0;
      return { ok: true };
    }
    this.skipped++;
    this.inARow++;
    const grads: Array<[string, { data: ArrayLike<number> }]> = [];
    for (const [name, p] of named) if (p.grad !== null && !p.grad.isDisposed) grads.push([name, { data: await p.grad.data() }]);
    const firstBadGradient = findNonfinite(grads)[0]?.name ?? null;
    return { ok: false, stop: this.policy === 'stop' || this.inARow >= this.maxSkips, firstBadGradient, inARow: this.inARow };
  }
}

/** One line describing a non-finite step, for the log and the error that stops training. */
export function describeNonfinite(step: number, loss: number, gradNorm: number, firstBadGradient: string | null): string {
  const where = firstBadGradient === null ? 'every gradient is finite (the loss is not)' : `first non-finite gradient: ${firstBadGradient}`;
  return `step ${step}: loss ${loss}, gradient norm ${gradNorm}; ${where}`;
}
