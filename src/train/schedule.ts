// Learning-rate schedules. The paper's (§5.3, eq. 3) warms up linearly for `warmup` steps, then decays with the
// inverse square root of the step: lrate = d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), here with an
// extra `factor` (1 in the paper) as most reimplementations have.

/** A learning rate for each optimizer step; steps count from 1. */
export interface Schedule {
  /** The learning rate to use at `step` (1 for the first update). */
  rate(step: number): number;
}

/** Parameters of the §5.3 schedule (the paper: dModel 512, warmup 4000, factor 1). */
export interface NoamOptions {
  dModel: number;
  warmup: number;
  factor?: number;
}

/** factor * dModel^-0.5 * min(step^-0.5, step * warmup^-1.5); 0 at step 0, peak at step = warmup. */
export function noamRate(step: number, opts: NoamOptions): number {
  checkNoam(opts, 'noamRate');
  if (!(step >= 0)) throw new Error(`noamRate: step must be >= 0, got ${step}`);
  if (step === 0) return 0;
  const { dModel, warmup, factor = 1 } = opts;
  return factor * dModel ** -0.5 * Math.min(step ** -0.5, step * warmup ** -1.5);
}

/** The §5.3 warmup then inverse-square-root schedule as a Schedule. */
export function noamSchedule(opts: NoamOptions): Schedule {
  checkNoam(opts, 'noamSchedule');
  return { rate: (step) => noamRate(step, opts) };
}

/** Throws unless dModel and warmup are positive. */
function checkNoam({ dModel, warmup }: NoamOptions, op: string): void {
  if (!(dModel > 0) || !(warmup > 0)) throw new Error(`${op}: dModel and warmup must be > 0, got dModel ${dModel}, warmup ${warmup}`);
}

/** The same learning rate at every step. */
export function constantSchedule(lr: number): Schedule {
  if (!(lr >= 0)) throw new Error(`constantSchedule: lr must be >= 0, got ${lr}`);
  return { rate: () => lr };
}

/** Parameters of the warmup-then-cosine schedule (GPT-2 and nanoGPT's recipe). */
export interface CosineOptions { lr: number; minLr: number; warmup: number; decaySteps: number; }

/**
 * Linear warmup to lr over `warmup` updates, then a cosine decay to minLr at update decaySteps, minLr after
 * (Radford et al. 2018 §4.1: "increased linearly from zero over the first 2000 updates and annealed to 0 using a
 * cosine schedule"; nanoGPT's get_lr with it = step - 1).
 */
export function cosineSchedule(opts: CosineOptions): Schedule {
  const { lr, minLr, warmup, decaySteps } = opts;
  if (!(lr >= 0 && minLr >= 0 && warmup >= 0 && decaySteps >= 0)) throw new Error(`cosineSchedule: need lr, minLr, warmup, decaySteps >= 0, got ${JSON.stringify(opts)}`);
  return {
    rate: (step) => {
      const it = step - 1;
      if (it < warmup) return (lr * (it + 1)) / (warmup + 1);
      if (it >= decaySteps) return minLr; // also when decaySteps <= warmup: straight to minLr
      return minLr + 0.5 * (1 + Math.cos((Math.PI * (it - warmup)) / (decaySteps - warmup))) * (lr - minLr);
    },
  };
}

/** Parameters of BERT's schedule (Devlin et al. 2019, Appendix A.2: peak 1e-4, 10,000 warmup steps, linear decay). */
export interface LinearWarmupOptions { peak: number; warmup: number; total: number; }

/** Linear warmup to `peak` over `warmup` steps, then linear decay to 0 at step `total`. */
export function linearWarmupDecay({ peak, warmup, total }: LinearWarmupOptions): Schedule {
  if (!(peak >= 0) || !(warmup >= 0) || !(total > 0)) throw new Error(`linearWarmupDecay: need peak >= 0, warmup >= 0, total > 0, got ${peak}, ${warmup}, ${total}`);
  return { rate: (step) => (step < warmup ? peak * step / warmup : peak * Math.max(0, total - step) / Math.max(1, total - warmup)) };
}
