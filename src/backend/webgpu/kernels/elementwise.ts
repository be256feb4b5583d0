// Elementwise kernels of the WebGPU backend in WGSL, mirroring src/backend/ts/elementwise.ts: strided copy (any
// 4-byte dtype), fill, unary functions and their derivatives, broadcasting binary functions and `where`. One thread
// per output element, f32 maths; NaN and infinities follow the TypeScript kernels (JavaScript semantics) explicitly.

import type { BinaryOp, Dense, DType, Strided, UnaryOp } from '../../backend.js';
import { gpuBuffer } from '../memory.js';
import { paramLayout, type ParamType, type ParamValue } from '../params.js';
import { defineKernel, FLAT_BUILTINS, FLAT_INDEX, grid, storage, type Runtime } from '../runtime.js';
import { coalesce, offsetsWgsl } from './strided.js';

/** erfc in f32 (Numerical Recipes' `erfcc`, as ts/elementwise.ts) and the tanh-free helpers the ops use. */
const MATH_WGSL = `
const SQRT_HALF = 0.70710678118654752;
const SQRT_2_OVER_PI = 0.79788456080286536;
const INV_SQRT_2PI = 0.39894228040143268;
fn erfc_(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return select(2.0 - r, r, x >= 0.0);
}
fn tanh_(x: f32) -> f32 { if (is_nan(x)) { return x; } return tanh(clamp(x, -15.0, 15.0)); }
fn log_(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0) { return nan(); }
  if (x == 0.0) { return -inf(); }
  return log(x);
}
fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan(); }
  let odd = fract(b * 0.5) == 0.5;
  if (a == 0.0) { let r = select(0.0, inf(), b < 0.0); return select(r, -r, odd && (bitcast<u32>(a) >> 31u) == 1u); }
  let m = exp2(b * log2(abs(a)));
  if (a < 0.0) {
    if (fract(b) != 0.0) { return nan(); }
    if (odd) { return -m; }
  }
  return m;
}
`;

/** f(x) of each unary op in WGSL (NaN in gives NaN out, relu's 0 aside, whatever the GPU's builtins do with it). */
const UNARY_WGSL: Record<UnaryOp, string> = {
  neg: '-x', exp: 'exp(x)', log: 'log_(x)', sqrt: 'select(sqrt(x), nan(), x < 0.0 || is_nan(x))', tanh: 'tanh_(x)',
  relu: 'select(0.0, x, x > 0.0)', sigmoid: '1.0 / (1.0 + exp(-x))', gelu: '0.5 * x * erfc_(-x * SQRT_HALF)',
  geluTanh: '0.5 * x * (1.0 + tanh_(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))', abs: 'abs(x)',
};

/** f'(x) of each unary op in WGSL, from x and y = f(x) (ts/elementwise.ts's unaryDerivative). */
const DERIVATIVE_WGSL: Record<UnaryOp, string> = {
  neg: '-1.0', exp: 'y', log: '1.0 / x', sqrt: '0.5 / y', tanh: '1.0 - y * y', relu: 'select(0.0, 1.0, x > 0.0)',
  sigmoid: 'y * (1.0 - y)', gelu: '0.5 * erfc_(-x * SQRT_HALF) + x * INV_SQRT_2PI * exp(-0.5 * x * x)',
  geluTanh: `0.5 * (1.0 + tanh_(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))) + 0.5 * x * (1.0 - tanh_(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)) *
    tanh_(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))) * SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * x * x)`,
  abs: 'sign(x)',
};

/** a op b of each binary op in WGSL (comparisons give 1 or 0; maximum / minimum propagate NaN as ts does). */
const BINARY_WGSL: Record<BinaryOp, string> = {
  add: 'a + b', sub: 'a - b', mul: 'a * b', div: 'a / b', pow: 'pow_(a, b)',
  maximum: 'select(b, a, a >= b || is_nan(a))', minimum: 'select(b, a, a <= b || is_nan(a))',
  eq: 'select(0.0, 1.0, a == b)', ne: 'select(1.0, 0.0, a == b)', lt: 'select(0.0, 1.0, a < b)',
  le: 'select(0.0, 1.0, a <= b)', gt: 'select(0.0, 1.0, a > b)', ge: 'select(0.0, 1.0, a >= b)',
};

/** Params of a strided kernel over `count` operands. */
function stridedParams(count: number): Record<string, ParamType> {
  const f: Record<string, ParamType> = { n: 'u32', rank: 'u32', outOff: 'u32' };
  for (let k = 0; k < count; k++) f[`off${k}`] = 'i32';
  f['shape'] = 'u32x8';
  for (let k = 0; k < count; k++) f[`s${k}`] = 'i32x8';
  return f;
}

/** Parameter values of a strided kernel: operands merged over `shape` (coalesce). */
function stridedValues(name: string, shape: readonly number[], ops: readonly { offset: number; strides: readonly number[] }[]): Record<string, ParamValue> {
  const c = coalesce(name, shape, ops.map((o) => o.strides));
  const v: Record<string, ParamValue> = { rank: c.shape.length, shape: c.shape };
  ops.forEach((o, k) => { v[`off${k}`] = o.offset; v[`s${k}`] = c.strides[k]!; });
  return v;
}

/** Number of elements of a shape. */
function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** dst = src over `shape`, both strided (4-byte elements of either dtype, copied bit for bit). */
export function copy(rt: Runtime, a: { src: Strided; dst: Strided; shape: readonly number[]; dtype: DType }): void {
  const n = sizeOf(a.shape);
  if (n === 0) return;
  const k = defineKernel('copy', () => ({
    params: paramLayout(stridedParams(2)), buffers: 2,
    code: `${storage(1, 'src', 'array<u32>')}${storage(2, 'dst', 'array<u32>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.n) { return; }
  ${offsetsWgsl(2, 'i')}
  dst[o1] = src[o0];
}`,
  }));
  rt.dispatch(k, { n, outOff: 0, ...stridedValues(k.name, a.shape, [a.src, a.dst]) }, [gpuBuffer(a.src.buf), gpuBuffer(a.dst.buf)], grid(n));
}

/** out[i] = value for n elements of `dtype`. */
export function fill(rt: Runtime, a: { out: Dense; n: number; value: number; dtype: DType }): void {
  if (a.n === 0) return;
  const bits = new Uint32Array((a.dtype === 'float32' ? Float32Array : Int32Array).of(a.value).buffer)[0]!;
  const k = defineKernel('fill', () => ({
    params: paramLayout({ n: 'u32', off: 'u32', bits: 'u32' }), buffers: 1,
    code: `${storage(1, 'out', 'array<u32>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i < p.n) { out[p.off + i] = p.bits; }
}`,
  }));
  rt.dispatch(k, { n: a.n, off: a.out.offset, bits }, [gpuBuffer(a.out.buf)], grid(a.n));
}

/** out[i] = f(x[i]) over n elements. */
export function unary(rt: Runtime, a: { op: UnaryOp; x: Dense; out: Dense; n: number }): void {
  if (a.n === 0) return;
  const k = defineKernel(`unary_${a.op}`, () => ({
    params: paramLayout({ n: 'u32', offX: 'u32', offOut: 'u32' }), buffers: 2,
    code: `${MATH_WGSL}${storage(1, 'xs', 'array<f32>')}${storage(2, 'out', 'array<f32>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.n) { return; }
  let x = xs[p.offX + i];
  out[p.offOut + i] = ${a.op === 'relu' ? UNARY_WGSL[a.op] : `select(${UNARY_WGSL[a.op]}, x, is_nan(x))`};
}`,
  }));
  rt.dispatch(k, { n: a.n, offX: a.x.offset, offOut: a.out.offset }, [gpuBuffer(a.x.buf), gpuBuffer(a.out.buf)], grid(a.n));
}

/** dx[i] = dy[i] * f'(x[i]) (y = f(x)). */
export function unaryBackward(rt: Runtime, a: { op: UnaryOp; x: Dense; y: Dense; dy: Dense; dx: Dense; n: number }): void {
  if (a.n === 0) return;
  const k = defineKernel(`unary_backward_${a.op}`, () => ({
    params: paramLayout({ n: 'u32', offX: 'u32', offY: 'u32', offDy: 'u32', offDx: 'u32' }), buffers: 4,
    code: `${MATH_WGSL}${storage(1, 'xs', 'array<f32>')}${storage(2, 'ys', 'array<f32>')}${storage(3, 'dys', 'array<f32>')}${storage(4, 'dxs', 'array<f32>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.n) { return; }
  let x = xs[p.offX + i];
  let y = ys[p.offY + i];
  dxs[p.offDx + i] = dys[p.offDy + i] * (${DERIVATIVE_WGSL[a.op]});
}`,
  }));
  rt.dispatch(k, { n: a.n, offX: a.x.offset, offY: a.y.offset, offDy: a.dy.offset, offDx: a.dx.offset },
    [gpuBuffer(a.x.buf), gpuBuffer(a.y.buf), gpuBuffer(a.dy.buf), gpuBuffer(a.dx.buf)], grid(a.n));
}

/** out (dense over `shape`) = a op b, both strided over `shape`. */
export function binary(rt: Runtime, a: { op: BinaryOp; a: Strided; b: Strided; shape: readonly number[]; out: Dense }): void {
  const n = sizeOf(a.shape);
  if (n === 0) return;
  const k = defineKernel(`binary_${a.op}`, () => ({
    params: paramLayout(stridedParams(2)), buffers: 3,
    code: `${MATH_WGSL}${storage(1, 'as_', 'array<f32>')}${storage(2, 'bs', 'array<f32>')}${storage(3, 'out', 'array<f32>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.n) { return; }
  ${offsetsWgsl(2, 'i')}
  let a = as_[o0];
  let b = bs[o1];
  out[p.outOff + i] = ${BINARY_WGSL[a.op]};
}`,
  }));
  const values = stridedValues(k.name, a.shape, [a.a, a.b]);
  rt.dispatch(k, { n, outOff: a.out.offset, ...values }, [gpuBuffer(a.a.buf), gpuBuffer(a.b.buf), gpuBuffer(a.out.buf)], grid(n));
}

/** out = cond != 0 ? a : b, all strided over `shape`. */
export function where(rt: Runtime, a: { cond: Strided; a: Strided; b: Strided; shape: readonly number[]; out: Dense }): void {
  const n = sizeOf(a.shape);
  if (n === 0) return;
  const k = defineKernel('where', () => ({
    params: paramLayout(stridedParams(3)), buffers: 4,
    code: `${storage(1, 'cs', 'array<f32>')}${storage(2, 'as_', 'array<f32>')}${storage(3, 'bs', 'array<f32>')}${storage(4, 'out', 'array<f32>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.n) { return; }
  ${offsetsWgsl(3, 'i')}
  out[p.outOff + i] = select(bs[o2], as_[o1], !(cs[o0] == 0.0));
}`,
  }));
  const values = stridedValues(k.name, a.shape, [a.cond, a.a, a.b]);
  rt.dispatch(k, { n, outOff: a.out.offset, ...values }, [gpuBuffer(a.cond.buf), gpuBuffer(a.a.buf), gpuBuffer(a.b.buf), gpuBuffer(a.out.buf)], grid(n));
}
