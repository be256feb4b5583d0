// Inputs of the kernel tests (backend parity, WebGPU kernels): seeded random arrays, the same on every run, and
// the strided layouts the elementwise kernels are checked on, and the comparison of a kernel's output with its oracle's.

import assert from 'node:assert/strict';

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let r = Math.imul(s ^ (s >>> 15), 1 | s);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator `rand` with array makers on it: floats in [lo, hi) (quantised to `steps` levels so ties occur) and ints. */
export function randomArrays(seed: number): { rand: () => number; randn: (n: number, lo?: number, hi?: number, steps?: number) => Float32Array; randi: (n: number, hi: number) => Int32Array } {
  const rand = mulberry32(seed);
  const randn = (n: number, lo = -2, hi = 2, steps = 0): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = rand();
      a[i] = lo + (hi - lo) * (steps > 0 ? Math.floor(u * steps) / steps : u);
    }
    return a;
  };
  const randi = (n: number, hi: number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(rand() * hi));
  return { rand, randn, randi };
}

/** An operand layout: an element offset and one stride per dimension (0 broadcasts, negative walks backwards). */
export interface Layout { offset: number; strides: number[]; }

/** Strided cases of the elementwise kernels: a shape and two operands' layouts over it. */
export const STRIDED_CASES: ReadonlyArray<{ name: string; shape: number[]; a: Layout; b: Layout }> = [
  { name: 'scalar', shape: [], a: { offset: 0, strides: [] }, b: { offset: 2, strides: [] } },
  { name: 'dense 1', shape: [1], a: { offset: 0, strides: [1] }, b: { offset: 0, strides: [1] } },
  { name: 'dense 7x33', shape: [7, 33], a: { offset: 0, strides: [33, 1] }, b: { offset: 3, strides: [33, 1] } },
  { name: 'row broadcast', shape: [33, 1000], a: { offset: 0, strides: [1000, 1] }, b: { offset: 1, strides: [0, 1] } },
  { name: 'column broadcast', shape: [1000, 7], a: { offset: 5, strides: [7, 1] }, b: { offset: 0, strides: [1, 0] } },
  { name: 'transposed a', shape: [33, 7], a: { offset: 0, strides: [1, 33] }, b: { offset: 0, strides: [7, 1] } },
  { name: 'scalar broadcast', shape: [7, 1, 33], a: { offset: 0, strides: [33, 0, 1] }, b: { offset: 4, strides: [0, 0, 0] } },
  { name: 'padded 4d', shape: [2, 3, 7, 33], a: { offset: 1, strides: [900, 300, 40, 1] }, b: { offset: 0, strides: [0, 33, 0, 1] } },
  { name: 'negative stride', shape: [33, 7], a: { offset: 32 * 7, strides: [-7, 1] }, b: { offset: 0, strides: [1, 33] } },
  { name: 'batched transpose', shape: [3, 1000, 33], a: { offset: 0, strides: [33000, 33, 1] }, b: { offset: 2, strides: [33000, 1, 1000] } },
  { name: 'big transpose', shape: [300, 257], a: { offset: 0, strides: [257, 1] }, b: { offset: 0, strides: [1, 300] } },
];

/**
 * Asserts actual ≈ expected element by element: equal (NaN matching NaN), or within `tol` relative to
 * max(|expected|, rms(expected), minScale) — the floors cover values that cancel to near zero (minScale: the size
 * of the terms that cancel, where every value may).
 */
export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-5, minScale = 0): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let sq = 0;
  let count = 0;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i]!)) { sq += expected[i]! ** 2; count++; }
  const floor = Math.max(count === 0 ? 0 : Math.sqrt(sq / count), minScale);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Object.is(a, e) || a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const err = Math.abs(a - e);
    if (!(err <= tol * Math.max(Math.abs(e), floor))) {
      assert.fail(`${what}: element ${i} is ${a}, expected ${e} (error ${err}, scale ${Math.max(Math.abs(e), floor)})`);
    }
  }
}
