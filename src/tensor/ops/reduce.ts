// Reductions over axes, with keepdim: sum, mean, max (values) and argmax (int32 indices); and sumSquares over all.

import { getBackend } from '../../backend/index.js';
import { record } from '../autograd.js';
import { fmt, normAxis, sizeOf } from '../layout.js';
import { Tensor } from '../tensor.js';
import { asTensor, eq, mul, div } from './elementwise.js';

/** Sorted, de-duplicated axes (all when undefined). */
function normAxes(x: Tensor, axes: number | number[] | undefined, op: string): number[] {
  const list = axes === undefined ? x.shape.map((_, i) => i) : Array.isArray(axes) ? axes : [axes];
  return [...new Set(list.map((a) => normAxis(a, x.rank, op)))].sort((p, q) => p - q);
}

/** The shape after reducing `axes` (kept as size 1 when keepdim). */
function reducedShape(shape: readonly number[], axes: number[], keepdim: boolean): number[] {
  return shape.flatMap((d, i) => (axes.includes(i) ? (keepdim ? [1] : []) : [d]));
}

/** Reduces one axis of a contiguous tensor with the backend kernel, keeping the dim. */
function reduceAxis(op: 'sum' | 'max', x: Tensor, axis: number): Tensor {
  const c = x.contiguous();
  const outShape = c.shape.map((d, i) => (i === axis ? 1 : d));
  const out = Tensor.empty(outShape);
  const outer = sizeOf(c.shape.slice(0, axis));
  const inner = sizeOf(c.shape.slice(axis + 1));
  getBackend().reduce(op, c.dense(op), outer, c.shape[axis]!, inner, out.dense());
  if (c !== x) c.dispose();
  return out;
}

/** Sum over axes (all by default). */
export function sum(input: Tensor, axes?: number | number[], keepdim = false): Tensor {
  const x = asTensor(input, 'sum');
  const list = normAxes(x, axes, 'sum');
  let out = x;
  for (const a of list) {
    const next = reduceAxis('sum', out, a);
    if (out !== x) out.dispose();
    out = next;
  }
  if (out === x) out = x.contiguous();
  const result = out.reshape(reducedShape(x.shape, list, keepdim));
  return record(result, 'sum', [x], (g) => [g.reshape(reducedShape(x.shape, list, true)).expand(x.shape)]);
}

/** The sum of the squares of all elements, a scalar, in one read (no squares stored): a squared L2 norm. */
export function sumSquares(input: Tensor): Tensor {
  const x = asTensor(input, 'sumSquares');
  const c = x.contiguous();
  const out = Tensor.empty([]);
  getBackend().reduce('sumSquares', c.dense('sumSquares'), 1, c.size, 1, out.dense());
  if (c !== x) c.dispose();
  return record(out, 'sumSquares', [x], (g) => [mul(x, mul(g, 2))]);
}

/** Mean over axes (all by default). */
export function mean(input: Tensor, axes?: number | number[], keepdim = false): Tensor {
  const x = asTensor(input, 'mean');
  const list = normAxes(x, axes, 'mean');
  const count = list.reduce((n, a) => n * x.shape[a]!, 1);
  return div(sum(x, list, keepdim), count);
}

/** Maximum over one axis; the gradient is split evenly among the positions equal to the maximum (as torch.amax). */
export function max(input: Tensor, axis: number, keepdim = false): Tensor {
  const x = asTensor(input, 'max');
  const a = normAxis(axis, x.rank, 'max');
  if (x.shape[a] === 0) throw new Error(`max: cannot reduce empty axis ${axis} of shape ${fmt(x.shape)}`);
  const kept = reduceAxis('max', x, a);
  const result = kept.reshape(reducedShape(x.shape, [a], keepdim));
  return record(result, 'max', [x], (g) => {
    const hits = eq(x, kept);
    return [mul(div(g.reshape(kept.shape), sum(hits, a, true)), hits)];
  });
}

/** Index of the maximum over one axis, as int32. */
export function argmax(input: Tensor, axis: number, keepdim = false): Tensor {
  const x = asTensor(input, 'argmax');
  const a = normAxis(axis, x.rank, 'argmax');
  if (x.shape[a] === 0) throw new Error(`argmax: cannot reduce empty axis ${axis} of shape ${fmt(x.shape)}`);
  const c = x.contiguous();
  const out = Tensor.empty(reducedShape(x.shape, [a], keepdim), 'int32');
  getBackend().argmax(c.dense('argmax'), sizeOf(c.shape.slice(0, a)), c.shape[a]!, sizeOf(c.shape.slice(a + 1)), out.dense());
  if (c !== x) c.dispose();
  return out;
}
