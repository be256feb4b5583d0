// Elementwise ops with NumPy broadcasting: arithmetic, unary functions, comparisons, where and maskedFill.
// Each forward is followed by its backward; broadcast gradients are summed back to the input's shape.

import type { BinaryOp, UnaryOp } from '../../backend/backend.js';
import { getBackend } from '../../backend/index.js';
import { record } from '../autograd.js';
import { broadcastShapes, broadcastStrides, fmt } from '../layout.js';
import { Tensor } from '../tensor.js';
import { sum } from './reduce.js';

/** A dense float32 tensor filled with one value. */
export function full(shape: readonly number[], value: number): Tensor {
  const t = Tensor.empty(shape);
  getBackend().fill(t.dense('full'), t.size, value, 'float32');
  t.constant = value;
  return t;
}

/** Wraps a number as a 0-d tensor; passes tensors through after a dtype check. */
export function asTensor(x: Tensor | number, op: string): Tensor {
  if (typeof x === 'number') return full([], x);
  x.assertAlive(op);
  if (x.dtype !== 'float32') throw new Error(`${op}: expected a float32 tensor, got int32 of shape ${fmt(x.shape)}`);
  return x;
}

/** Sums a broadcast gradient back down to `shape`. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return sum(g, axes, true).reshape(shape);
}

function binaryOp(op: BinaryOp, x: Tensor | number, y: Tensor | number): Tensor {
  const a = asTensor(x, op);
  const b = asTensor(y, op);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = Tensor.empty(shape);
  getBackend().binary(op,
    { ...a.dense(op), strides: broadcastStrides(a.shape, a.strides, shape) },
    { ...b.dense(op), strides: broadcastStrides(b.shape, b.strides, shape) }, shape, out.dense());
  return out;
}

/** a + b. */
export function add(x: Tensor | number, y: Tensor | number): Tensor {
  const a = asTensor(x, 'add'); const b = asTensor(y, 'add');
  return record(binaryOp('add', a, b), 'add', [a, b], (g) => [sumToShape(g, a.shape), sumToShape(g, b.shape)]);
}

/** a - b. */
export function sub(x: Tensor | number, y: Tensor | number): Tensor {
  const a = asTensor(x, 'sub'); const b = asTensor(y, 'sub');
  return record(binaryOp('sub', a, b), 'sub', [a, b], (g) => [sumToShape(g, a.shape), b.requiresGrad ? sumToShape(neg(g), b.shape) : null]);
}

/** a * b. */
export function mul(x: Tensor | number, y: Tensor | number): Tensor {
  const a = asTensor(x, 'mul'); const b = asTensor(y, 'mul');
  return record(binaryOp('mul', a, b), 'mul', [a, b], (g) => [
    a.requiresGrad ? sumToShape(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(g, a), b.shape) : null,
  ]);
}

/** a / b. */
export function div(x: Tensor | number, y: Tensor | number): Tensor {
  const a = asTensor(x, 'div'); const b = asTensor(y, 'div');
  const out = binaryOp('div', a, b);
  return record(out, 'div', [a, b], (g) => [
    a.requiresGrad ? sumToShape(div(g, b), a.shape) : null,
    b.requiresGrad ? sumToShape(neg(div(mul(g, out), b)), b.shape) : null,
  ]);
}

/** a ** b. */
export function pow(x: Tensor | number, y: Tensor | number): Tensor {
  const a = asTensor(x, 'pow'); const b = asTensor(y, 'pow');
  const out = binaryOp('pow', a, b);
  return record(out, 'pow', [a, b], (g) => [
    a.requiresGrad ? sumToShape(mul(g, mul(b, binaryOp('pow', a, sub(b, 1)))), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(g, mul(out, log(a))), b.shape) : null,
  ]);
}

/** Elementwise maximum; the gradient goes to the larger input (to a on ties). */
export function maximum(x: Tensor | number, y: Tensor | number): Tensor {
  const a = asTensor(x, 'maximum'); const b = asTensor(y, 'maximum');
  return record(binaryOp('maximum', a, b), 'maximum', [a, b], (g) => {
    const takeA = binaryOp('ge', a, b);
    return [sumToShape(mul(g, takeA), a.shape), sumToShape(mul(g, sub(1, takeA)), b.shape)];
  });
}

/** Elementwise minimum; the gradient goes to the smaller input (to a on ties). */
export function minimum(x: Tensor | number, y: Tensor | number): Tensor {
  const a = asTensor(x, 'minimum'); const b = asTensor(y, 'minimum');
  return record(binaryOp('minimum', a, b), 'minimum', [a, b], (g) => {
    const takeA = binaryOp('le', a, b);
    return [sumToShape(mul(g, takeA), a.shape), sumToShape(mul(g, sub(1, takeA)), b.shape)];
  });
}

/** a == b as 1/0 (no gradient). */
export function eq(a: Tensor | number, b: Tensor | number): Tensor { return binaryOp('eq', a, b); }
/** a != b as 1/0. */
export function ne(a: Tensor | number, b: Tensor | number): Tensor { return binaryOp('ne', a, b); }
/** a < b as 1/0. */
export function lt(a: Tensor | number, b: Tensor | number): Tensor { return binaryOp('lt', a, b); }
/** a <= b as 1/0. */
export function le(a: Tensor | number, b: Tensor | number): Tensor { return binaryOp('le', a, b); }
/** a > b as 1/0. */
export function gt(a: Tensor | number, b: Tensor | number): Tensor { return binaryOp('gt', a, b); }
/** a >= b as 1/0. */
export function ge(a: Tensor | number, b: Tensor | number): Tensor { return binaryOp('ge', a, b); }

function unaryOp(op: UnaryOp, x: Tensor): Tensor {
  const a = asTensor(x, op);
  const input = a.contiguous();
  const out = Tensor.empty(a.shape);
  const backend = getBackend();
  backend.unary(op, input.dense(op), out.dense(), out.size);
  return record(out, op, [a], (g) => {
    input.assertAlive(`${op} backward`);
    const gc = g.contiguous();
    const dx = Tensor.empty(a.shape);
    backend.unaryBackward(op, input.dense(`${op} backward`), out.dense(), gc.dense(), dx.dense(), dx.size);
    return [dx];
  });
}

/** -x. */
export function neg(x: Tensor): Tensor { return unaryOp('neg', x); }
/** e^x. */
export function exp(x: Tensor): Tensor { return unaryOp('exp', x); }
/** Natural logarithm. */
export function log(x: Tensor): Tensor { return unaryOp('log', x); }
/** Square root. */
export function sqrt(x: Tensor): Tensor { return unaryOp('sqrt', x); }
/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor { return unaryOp('tanh', x); }
/** max(x, 0). */
export function relu(x: Tensor): Tensor { return unaryOp('relu', x); }
/** 1 / (1 + e^-x). */
export function sigmoid(x: Tensor): Tensor { return unaryOp('sigmoid', x); }
/** |x|. */
export function abs(x: Tensor): Tensor { return unaryOp('abs', x); }
/** GELU: x * Phi(x) (erf form), or the tanh approximation used by GPT-2 and BERT. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return unaryOp(approximate === 'tanh' ? 'geluTanh' : 'gelu', x);
}

/** cond != 0 ? a : b, broadcasting all three. */
export function where(cond: Tensor, x: Tensor | number, y: Tensor | number): Tensor {
  const c = asTensor(cond, 'where'); const a = asTensor(x, 'where'); const b = asTensor(y, 'where');
  const shape = broadcastShapes(broadcastShapes(c.shape, a.shape, 'where'), b.shape, 'where');
  const out = Tensor.empty(shape);
  const view = (t: Tensor) => ({ ...t.dense('where'), strides: broadcastStrides(t.shape, t.strides, shape) });
  getBackend().where(view(c), view(a), view(b), shape, out.dense());
  return record(out, 'where', [a, b], (g) => [
    a.requiresGrad ? sumToShape(where(c, g, 0), a.shape) : null,
    b.requiresGrad ? sumToShape(where(c, 0, g), b.shape) : null,
  ]);
}

/** x with `value` wherever mask != 0 (mask broadcasts to x). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  const shape = broadcastShapes(x.shape, mask.shape, 'maskedFill');
  if (shape.join() !== x.shape.join()) throw new Error(`maskedFill: mask ${fmt(mask.shape)} must broadcast to input ${fmt(x.shape)}`);
  return where(mask, value, x);
}
