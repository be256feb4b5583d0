// Adam (Kingma & Ba 2015) as the paper trains with it (§5.3: beta1 = 0.9, beta2 = 0.98, eps = 1e-9), and AdamW
// (Loshchilov & Hutter 2019, decoupled weight decay). Each step runs the backend's fused in-place kernel on every
// parameter that has a gradient; the moments are tensors on the backend, copied to the host for a checkpoint, so
// a resumed run continues bit for bit. Semantics follow torch.optim.Adam / AdamW: a parameter whose grad is null
// is skipped and its own step count does not advance.

import { getBackend } from '../backend/index.js';
import { keep } from '../tensor/memory.js';
import { zeros } from '../tensor/ops/create.js';
import { Tensor } from '../tensor/tensor.js';
import { constantSchedule, type Schedule } from './schedule.js';

/** Hyperparameters of Adam and AdamW. */
export interface AdamOptions {
  /** A fixed learning rate, or a schedule asked for the rate of each step (default 1e-3). */
  lr?: number | Schedule;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.98], §5.3). */
  betas?: readonly [number, number];
  /** Added to the root of the second moment (default 1e-9, §5.3). */
  eps?: number;
  /** L2 penalty added to the gradient (Adam, default 0) or decoupled decay (AdamW, default 0.01). */
  weightDecay?: number;
  /** Which parameters weight decay applies to (default all), as torch's parameter groups (GPT decays matrices only). */
  decays?: (p: Tensor, index: number) => boolean;
}

/** Optimizer state of one parameter on the host: its update count and moment estimates. */
export interface ParamState {
  step: number;
  m: Float32Array;
  v: Float32Array;
}

/** Everything a checkpoint needs to resume an optimizer: steps taken, and per parameter its state (null before its first update). */
export interface AdamState {
  steps: number;
  params: Array<ParamState | null>;
}

/** A parameter's live state: its update count and moments on the backend. */
interface Moments { step: number; m: Tensor; v: Tensor; }

/** Adam with L2 weight decay added to the gradient, as torch.optim.Adam. */
export class Adam {
  readonly params: readonly Tensor[];
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Whether weight decay is decoupled from the gradient (AdamW). */
  protected readonly decoupled: boolean = false;
  private readonly schedule: Schedule;
  /** Whether each parameter is weight-decayed. */
  private readonly decayed: readonly boolean[];
  private steps = 0;
  private state: Array<Moments | null>;

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    this.params = [...params];
    const name = new.target.name;
    this.params.forEach((p, i) => {
      if (p.dtype !== 'float32') throw new Error(`${name}: parameter ${i} of shape [${p.shape.join(', ')}] is ${p.dtype}, not float32`);
      if (!p.isContiguous()) throw new Error(`${name}: parameter ${i} of shape [${p.shape.join(', ')}] is not contiguous`);
      if (this.params.indexOf(p) !== i) throw new Error(`${name}: parameter ${i} appears more than once`);
    });
    const lr = opts.lr ?? 1e-3;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.98];
    this.eps = opts.eps ?? 1e-9;
    this.weightDecay = opts.weightDecay ?? 0;
    if (typeof lr === 'number' && !(lr >= 0)) throw new Error(`${name}: lr must be >= 0, got ${lr}`);
    if (!(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) {
      throw new Error(`${name}: betas must be in [0, 1), got [${this.beta1}, ${this.beta2}]`);
    }
    if (!(this.eps >= 0)) throw new Error(`${name}: eps must be >= 0, got ${this.eps}`);
    if (!(this.weightDecay >= 0)) throw new Error(`${name}: weightDecay must be >= 0, got ${this.weightDecay}`);
    this.schedule = typeof lr === 'number' ? constantSchedule(lr) : lr;
    this.decayed = this.params.map((p, i) => opts.decays?.(p, i) ?? true);
    this.state = this.params.map(() => null);
  }

  /** Number of step() calls so far (restored by importState). */
  get stepCount(): number { return this.steps; }

  /** The learning rate the next step() will use. */
  get lr(): number { return this.schedule.rate(this.steps + 1); }

  /** Updates every parameter that has a gradient, in place, with the rate the schedule gives the next step. */
  step(): void {
    const lr = this.lr;
    this.steps++;
    const backend = getBackend();
    this.params.forEach((p, i) => {
      const grad = p.grad;
      if (grad === null || grad.isDisposed) return;
      if (grad.shape.join() !== p.shape.join() || !grad.isContiguous()) {
        throw new Error(`${this.constructor.name}.step: grad of parameter ${i} is [${grad.shape.join(', ')}]${grad.isContiguous() ? '' : ' (strided)'}, need a contiguous [${p.shape.join(', ')}]`);
      }
      let s = this.state[i];
      if (s === null || s === undefined) s = this.state[i] = { step: 0, m: keep(zeros(p.shape)), v: keep(zeros(p.shape)) };
      s.step++;
      backend.adam({ param: p.dense('adam'), grad: grad.dense('adam'), m: s.m.dense('adam'), v: s.v.dense('adam'), n: p.size, lr,
        beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.decayed[i] ? this.weightDecay : 0, step: s.step, decoupled: this.decoupled });
    });
  }

  /** Drops every parameter's gradient (like torch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** A copy of the state on the host, for checkpoints. */
  async exportState(): Promise<AdamState> {
    const params = await Promise.all(this.state.map(async (s) => s === null ? null
      : { step: s.step, m: (await s.m.data()) as Float32Array, v: (await s.v.data()) as Float32Array }));
    return { steps: this.steps, params };
  }

  /** Replaces the state with a copy of `state` (from exportState on an optimizer over the same parameter shapes). */
  importState(state: AdamState): void {
    const name = `${this.constructor.name}.importState`;
    if (!Number.isInteger(state.steps) || state.steps < 0) throw new Error(`${name}: steps must be an integer >= 0, got ${state.steps}`);
    if (state.params.length !== this.params.length) {
      throw new Error(`${name}: state has ${state.params.length} parameters, this optimizer has ${this.params.length}`);
    }
    const next = state.params.map((s, i) => {
      if (s === null) return null;
      const size = this.params[i]!.size;
      if (s.m.length !== size || s.v.length !== size) {
        throw new Error(`${name}: parameter ${i} has ${size} elements but its state has m ${s.m.length}, v ${s.v.length}`);
      }
      if (!Number.isInteger(s.step) || s.step < 1) throw new Error(`${name}: parameter ${i} has step ${s.step}; must be an integer >= 1`);
      const shape = this.params[i]!.shape;
      return { step: s.step, m: keep(Tensor.fromHost(Float32Array.from(s.m), shape)), v: keep(Tensor.fromHost(Float32Array.from(s.v), shape)) };
    });
    for (const s of this.state) { s?.m.dispose(); s?.v.dispose(); }
    this.state = next;
    this.steps = state.steps;
  }
}

/** AdamW: Adam with weight decay decoupled from the gradient (p -= lr * weightDecay * p), as torch.optim.AdamW. */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, { ...opts, weightDecay: opts.weightDecay ?? 0.01 });
  }
}

