// Define-by-run reverse-mode autograd: each op records a node with its inputs and a backward closure that
// sits beside its forward; `backward` walks the recorded graph in reverse topological order.

import type { Tensor } from './tensor.js';

/**
 * How one op turns the gradient of its output into gradients of its inputs (null = no gradient). The tensors it
 * returns pass to backward, which frees them once consumed or keeps one as a leaf's .grad: return new tensors,
 * views, or the incoming gradient itself, never one the op keeps for later.
 */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly backward: (grad: Tensor) => Array<Tensor | null>;
}

let gradEnabled = true;

/** True unless inside noGrad. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording operations for autograd. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** True when an op on these inputs must record a backward node (grad mode on, some input requires grad). */
export function needsGrad(...inputs: readonly Tensor[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/** Attaches a backward node to `out` when grad mode is on and any input requires a gradient. */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

const gradReadyHooks = new WeakMap<Tensor, (leaf: Tensor) => void>();

/**
 * Calls fn(leaf) each time a backward pass has finished accumulating leaf's .grad, while it goes on with the
 * layers below (PyTorch's post-accumulate-grad hook; data-parallel training starts all-reduces there).
 * Returns the function that removes the hook.
 */
export function onGradReady(leaf: Tensor, fn: (leaf: Tensor) => void): () => void {
  gradReadyHooks.set(leaf, fn);
  return () => { if (gradReadyHooks.get(leaf) === fn) gradReadyHooks.delete(leaf); };
}

/** Partial gradients (see ops/shape.ts): merge gi into prev in place when both are partial and disjoint; complete one before use. */
export interface PartialGrads { merge(prev: Tensor, gi: Tensor): boolean; complete(g: Tensor): void; }

/** Tensors reachable from root through nodes, in topological order (inputs before outputs). */
function topoSort(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: Array<[Tensor, number]> = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i]!;
      if (next.requiresGrad && !seen.has(next)) { seen.add(next); stack.push([next, 0]); }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/**
 * Back-propagates from `root`. A non-scalar root needs `grad` (same shape). Leaf tensors that require a
 * gradient accumulate into `.grad`; `accumulate` returns true when it kept an `owned` gradient as that .grad.
 */
export function runBackward(root: Tensor, grad: Tensor | undefined, ones: (shape: readonly number[]) => Tensor,
  accumulate: (leaf: Tensor, g: Tensor, owned: boolean) => boolean, add: (a: Tensor, b: Tensor) => Tensor, partial: PartialGrads): void {
  if (!root.requiresGrad) throw new Error('backward: tensor does not require grad (no input had requiresGrad, or it was made under noGrad)');
  if (grad === undefined && root.size !== 1) {
    throw new Error(`backward: tensor of shape [${root.shape.join(', ')}] is not a scalar; pass a gradient of the same shape`);
  }
  if (grad !== undefined && grad.shape.join() !== root.shape.join()) {
    throw new Error(`backward: gradient shape [${grad.shape.join(', ')}] does not match tensor shape [${root.shape.join(', ')}]`);
  }
  noGrad(() => {
    // Gradients of intermediate tensors are freed once consumed, as PyTorch frees them, so backward's memory
    // does not grow with depth. `holders` counts the pending entries that hold each gradient tensor (a backward
    // may pass its gradient on unchanged, to several inputs); one at zero is disposed, the caller's `grad` never.
    const first = grad ?? ones(root.shape);
    const grads = new Map<Tensor, Tensor>([[root, first]]);
    const holders = new Map<Tensor, number>([[first, 1]]);
    const hold = (g: Tensor): void => { holders.set(g, (holders.get(g) ?? 0) + 1); };
    const release = (g: Tensor): void => {
      const n = (holders.get(g) ?? 0) - 1;
      if (n > 0) { holders.set(g, n); return; }
      holders.delete(g);
      if (g !== grad) g.dispose();
    };
    // A returned gradient that was folded into another and that no entry holds.
    const drop = (gi: Tensor, g: Tensor): void => { if (!holders.has(gi) && gi !== g && gi !== grad) gi.dispose(); };
    const order = topoSort(root);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i]!;
      const g = grads.get(t);
      if (g === undefined) continue;
      grads.delete(t);
      partial.complete(g);
      if (t.node === null) {
        // A gradient only this entry holds may become the leaf's .grad as it is (no copy); else it is released.
        if (accumulate(t, g, holders.get(g) === 1 && g !== grad)) holders.delete(g);
        else release(g);
        gradReadyHooks.get(t)?.(t);
        continue;
      }
      const inputGrads = t.node.backward(g);
      t.node.inputs.forEach((input, k) => {
        const gi = inputGrads[k];
        if (gi === null || gi === undefined || !input.requiresGrad) return;
        const prev = grads.get(input);
        if (prev === undefined) { grads.set(input, gi); hold(gi); return; }
        if (holders.get(prev) === 1 && prev !== grad && partial.merge(prev, gi)) { drop(gi, g); return; }
        partial.complete(prev);
        partial.complete(gi);
        const sum = add(prev, gi);
        grads.set(input, sum);
        hold(sum);
        release(prev);
        drop(gi, g);
      });
      release(g);
    }
  });
}
