// Elementwise kernels of the TypeScript backend: strided copy, unary functions and their derivatives,
// broadcasting binary functions and `where`. Maths in float64, stored as float32.

import type { BinaryOp, Strided, UnaryOp } from '../host/kernels.js';
import { forEachStrided } from '../strided.js';

/** erfc(x) with relative error below 1.2e-7 (Numerical Recipes' Chebyshev fit, `erfcc`). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** f(x) for each unary op. */
export function unaryFn(op: UnaryOp): (x: number) => number {
  switch (op) {
    case 'neg': return (x) => -x;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'sqrt': return Math.sqrt;
    case 'tanh': return Math.tanh;
    case 'relu': return (x) => (x > 0 ? x : 0);
    case 'sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'gelu': return (x) => 0.5 * x * erfc(-x * SQRT_HALF);
    case 'geluTanh': return (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case 'abs': return Math.abs;
  }
}

/** f'(x) for each unary op, given x and y = f(x). */
function unaryDerivative(op: UnaryOp): (x: number, y: number) => number {
  switch (op) {
    case 'neg': return () => -1;
    case 'exp': return (_x, y) => y;
    case 'log': return (x) => 1 / x;
    case 'sqrt': return (_x, y) => 0.5 / y;
    case 'tanh': return (_x, y) => 1 - y * y;
    case 'relu': return (x) => (x > 0 ? 1 : 0);
    case 'sigmoid': return (_x, y) => y * (1 - y);
    case 'gelu': return (x) => 0.5 * erfc(-x * SQRT_HALF) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case 'geluTanh': return (x) => {
      const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
      const t = Math.tanh(u);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
    };
    case 'abs': return (x) => Math.sign(x);
  }
}

/** a op b for each binary op. */
export function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'pow': return Math.pow;
    case 'maximum': return (a, b) => (a >= b || Number.isNaN(a) ? a : b);
    case 'minimum': return (a, b) => (a <= b || Number.isNaN(a) ? a : b);
    case 'eq': return (a, b) => (a === b ? 1 : 0);
    case 'ne': return (a, b) => (a !== b ? 1 : 0);
    case 'lt': return (a, b) => (a < b ? 1 : 0);
    case 'le': return (a, b) => (a <= b ? 1 : 0);
    case 'gt': return (a, b) => (a > b ? 1 : 0);
    case 'ge': return (a, b) => (a >= b ? 1 : 0);
  }
}

/** dst = src over `shape`, both strided. */
export function copy(src: Strided, dst: Strided, shape: readonly number[]): void {
  const s = src.data;
  const d = dst.data;
  forEachStrided(shape, [src, dst], (_start, len, off, ls) => {
    let p = off[0]!;
    let q = off[1]!;
    const sp = ls[0]!;
    const sq = ls[1]!;
    for (let j = 0; j < len; j++, p += sp, q += sq) d[q] = s[p]!;
  });
}

/** out[i] = f(x[i]). */
export function unary(op: UnaryOp, x: Float32Array, out: Float32Array): void {
  const f = unaryFn(op);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]!);
}

/** dx[i] = dy[i] * f'(x[i]). */
export function unaryBackward(op: UnaryOp, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  const d = unaryDerivative(op);
  for (let i = 0; i < x.length; i++) dx[i] = dy[i]! * d(x[i]!, y[i]!);
}

/** out = a op b with broadcasting through strides. */
export function binary(op: BinaryOp, a: Strided, b: Strided, shape: readonly number[], out: Float32Array): void {
  const f = binaryFn(op);
  const ad = a.data;
  const bd = b.data;
  forEachStrided(shape, [a, b], (start, len, off, ls) => {
    let pa = off[0]!;
    let pb = off[1]!;
    const sa = ls[0]!;
    const sb = ls[1]!;
    for (let j = 0; j < len; j++, pa += sa, pb += sb) out[start + j] = f(ad[pa]!, bd[pb]!);
  });
}

/** out = cond != 0 ? a : b. */
export function where(cond: Strided, a: Strided, b: Strided, shape: readonly number[], out: Float32Array): void {
  const cd = cond.data;
  const ad = a.data;
  const bd = b.data;
  forEachStrided(shape, [cond, a, b], (start, len, off, ls) => {
    let pc = off[0]!;
    let pa = off[1]!;
    let pb = off[2]!;
    for (let j = 0; j < len; j++, pc += ls[0]!, pa += ls[1]!, pb += ls[2]!) out[start + j] = cd[pc] !== 0 ? ad[pa]! : bd[pb]!;
  });
}
