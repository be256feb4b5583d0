// Gradient checking against the float64 reference: the library's forward must match the reference forward,
// and its analytic gradient of sum(w * f(x)) must match central finite differences of the reference.
import assert from 'node:assert/strict';
import { Rng, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { arr, type Arr } from './reference.js';

/** How to draw one differentiable input: uniform in [low, high], optionally keeping |x| >= awayFromZero. */
export interface LeafSpec { shape: readonly number[]; low?: number; high?: number; awayFromZero?: number; }

/** One gradient check: leaves are drawn from specs; `ours` and `ref` compute the same function of them. */
export interface GradCase {
  leaves: readonly LeafSpec[];
  ours: (xs: Tensor[]) => Tensor;
  ref: (xs: Arr[]) => Arr;
  /** 'grad': y.backward(w); 'sum': (y * w).sum().backward(). */
  via?: 'grad' | 'sum';
  seed?: number;
}

const FORWARD_TOL = 1e-5;
const GRAD_TOL = 1e-3;
const STEP = 1e-6;

/** Float32-representable samples (so the library and the reference see identical inputs). */
export function sample(spec: LeafSpec, rng: Rng): Arr {
  const { low = -2, high = 2, awayFromZero = 0 } = spec;
  const out = arr(spec.shape);
  for (let i = 0; i < out.data.length; i++) {
    let v = 0;
    do v = Math.fround(low + (high - low) * rng.uniform()); while (Math.abs(v) < awayFromZero);
    out.data[i] = v;
  }
  return out;
}

/** A float32 tensor holding an Arr's values. */
export function toTensor(a: Arr): Tensor {
  return tensor(Float32Array.from(a.data), a.shape);
}

/** Asserts |actual - expected| <= tol * (1 + |expected|) elementwise (equal infinities pass). */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (a === e) continue;
    assert.ok(Math.abs(a - e) <= tol * (1 + Math.abs(e)), `${what}: element ${i} is ${a}, expected ${e}`);
  }
}

/** sum(w * f(x)) over the finite entries of f(x). */
function functional(ref: GradCase['ref'], xs: Arr[], w: Float64Array): number {
  const y = ref(xs).data;
  let total = 0;
  for (let i = 0; i < y.length; i++) if (w[i] !== 0) total += w[i]! * y[i]!;
  return total;
}

/** Central differences of sum(w * ref(xs)) with respect to every element of xs[leaf]. */
function numericGrad(ref: GradCase['ref'], xs: Arr[], leaf: number, w: Float64Array): Float64Array {
  const x = xs[leaf]!.data;
  const grad = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) {
    const saved = x[j]!;
    x[j] = saved + STEP;
    const plus = functional(ref, xs, w);
    x[j] = saved - STEP;
    const minus = functional(ref, xs, w);
    x[j] = saved;
    grad[j] = (plus - minus) / (2 * STEP);
  }
  return grad;
}

/** Runs one gradient check (forward values and every leaf's gradient); throws an assertion error on mismatch. */
export function checkGrad(name: string, c: GradCase): void {
  const rng = new Rng(c.seed ?? 1234);
  const xs = c.leaves.map((spec) => sample(spec, rng));
  const expected = c.ref(xs);
  // Output entries that are infinite (e.g. log-softmax under a -Infinity mask) carry no gradient.
  const w = Float64Array.from(expected.data, (v) => (Number.isFinite(v) ? Math.fround(2 * rng.uniform() - 1) : 0));
  const grads = tidy(() => {
    const leaves = xs.map((x) => toTensor(x).requireGrad());
    const y = c.ours(leaves);
    assert.deepEqual([...y.shape], [...expected.shape], `${name}: output shape`);
    assertClose(y.toArray(), expected.data, FORWARD_TOL, `${name}: forward`);
    const wt = tensor(Float32Array.from(w), expected.shape);
    if (c.via === 'sum') y.mul(wt).sum().backward();
    else y.backward(wt);
    return leaves.map((leaf) => {
      const g = leaf.grad === null ? new Float32Array(leaf.size) : leaf.grad.toArray();
      leaf.zeroGrad();
      return g;
    });
  });
  grads.forEach((analytic, leaf) => {
    const numeric = numericGrad(c.ref, xs, leaf, w);
    const scale = numeric.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let j = 0; j < numeric.length; j++) {
      const a = analytic[j]!;
      const n = numeric[j]!;
      const tol = GRAD_TOL * Math.max(Math.abs(n), 0.1 * scale) + 1e-6;
      assert.ok(Math.abs(a - n) <= tol, `${name}: d/dx${leaf}[${j}] is ${a}, finite difference gives ${n}`);
    }
  });
}
