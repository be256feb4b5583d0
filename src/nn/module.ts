// The module base of every layer: named parameters, buffers and child modules (walked recursively, names
// joined with dots as in PyTorch: `transformer.encoder.layers.0.self_attn.in_proj_weight`), train/eval mode,
// and a strict state dict, so checkpoints and PyTorch weights load by name.

import { fmt } from '../tensor/layout.js';
import { noGrad } from '../tensor/autograd.js';
import { Tensor } from '../tensor/tensor.js';

/** Options of loadStateDict. */
export interface LoadOptions { strict?: boolean; }

/** A tensor-like entry of a state dict (a Tensor, or raw values plus a shape as read from safetensors). */
export type StateEntry = Tensor | { shape: readonly number[]; data: ArrayLike<number> };

/** A layer: owns parameters (trainable, kept tensors) and buffers (fixed tensors), and child modules. */
export class Module {
  /** True in training mode (dropout active). */
  training = true;
  private readonly ownParams = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, { tensor: Tensor; persistent: boolean }>();
  private readonly children = new Map<string, Module>();

  /** Registers a trainable parameter (kept, requiresGrad) under `name` and returns it. */
  protected addParameter(name: string, t: Tensor): Tensor {
    this.assertFreeName(name);
    t.keep().requireGrad(true);
    this.ownParams.set(name, t);
    return t;
  }

  /** Registers a fixed tensor (kept, no gradient); non-persistent buffers stay out of the state dict. */
  protected addBuffer(name: string, t: Tensor, persistent = true): Tensor {
    this.assertFreeName(name);
    this.ownBuffers.set(name, { tensor: t.keep(), persistent });
    return t;
  }

  /** Registers a child module under `name` and returns it. */
  protected addModule<M extends Module>(name: string, m: M): M {
    this.assertFreeName(name);
    this.children.set(name, m);
    return m;
  }

  private assertFreeName(name: string): void {
    if (name === '' || name.includes('.')) throw new Error(`Module: invalid name '${name}'`);
    if (this.ownParams.has(name) || this.ownBuffers.has(name) || this.children.has(name)) {
      throw new Error(`Module: name '${name}' is already registered`);
    }
  }

  /** Child modules by name, in registration order. */
  namedChildren(): Array<[string, Module]> { return [...this.children]; }

  /** Every parameter with its dotted name (each tensor once, at the first name it was found under). */
  namedParameters(prefix = ''): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    const seen = new Set<Tensor>();
    this.walk(prefix, (name, m) => {
      for (const [n, t] of m.ownParams) if (!seen.has(t)) { seen.add(t); out.push([name + n, t]); }
    });
    return out;
  }

  /** Every parameter (each once). */
  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }

  /** Every buffer with its dotted name and whether it is persistent. */
  namedBuffers(prefix = ''): Array<[string, Tensor, boolean]> {
    const out: Array<[string, Tensor, boolean]> = [];
    this.walk(prefix, (name, m) => { for (const [n, b] of m.ownBuffers) out.push([name + n, b.tensor, b.persistent]); });
    return out;
  }

  private walk(prefix: string, visit: (prefix: string, m: Module) => void): void {
    visit(prefix, this);
    for (const [n, c] of this.children) c.walk(`${prefix}${n}.`, visit);
  }

  /** Sets training mode on this module and every child; returns this. */
  train(on = true): this {
    this.walk('', (_, m) => { m.training = on; });
    return this;
  }

  /** Sets evaluation mode (dropout off); returns this. */
  eval(): this { return this.train(false); }

  /** Clears the gradients of every parameter. */
  zeroGrad(): void { for (const p of this.parameters()) p.zeroGrad(); }

  /** Parameters and persistent buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>(this.namedParameters());
    for (const [n, t, persistent] of this.namedBuffers()) if (persistent) out.set(n, t);
    return out;
  }

  /**
   * Copies values from `dict` into the parameters and persistent buffers. Mis-shaped entries always fail;
   * with strict (default) missing and unexpected names fail too. The error lists every offending name.
   */
  loadStateDict(dict: ReadonlyMap<string, StateEntry>, opts: LoadOptions = {}): void {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missing = [...own.keys()].filter((n) => !dict.has(n));
    const unexpected = [...dict.keys()].filter((n) => !own.has(n));
    const misShaped: string[] = [];
    for (const [n, t] of own) {
      const e = dict.get(n);
      if (e !== undefined && e.shape.join() !== t.shape.join()) misShaped.push(`${n} (expected ${fmt(t.shape)}, got ${fmt(e.shape)})`);
    }
    if (misShaped.length > 0 || (strict && (missing.length > 0 || unexpected.length > 0))) {
      const parts = [
        missing.length > 0 ? `missing: ${missing.join(', ')}` : '',
        unexpected.length > 0 ? `unexpected: ${unexpected.join(', ')}` : '',
        misShaped.length > 0 ? `mis-shaped: ${misShaped.join(', ')}` : '',
      ].filter((p) => p !== '');
      throw new Error(`loadStateDict: ${parts.join('; ')}`);
    }
    noGrad(() => {
      for (const [n, t] of own) {
        const e = dict.get(n);
        if (e === undefined) continue;
        t.assign(e instanceof Tensor ? e.toArray() : Float32Array.from(e.data)); // parameters and buffers are dense
      }
    });
  }
}

/** An indexed list of modules (children named 0, 1, 2, ...), as torch.nn.ModuleList. */
export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];

  constructor(items: readonly M[]) {
    super();
    items.forEach((m, i) => this.addModule(String(i), m));
    this.items = items;
  }
}
