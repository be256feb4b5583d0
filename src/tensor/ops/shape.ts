// Views and joins: reshape, transpose, permute, slice, expand, (un)squeeze are views on the same storage;
// contiguous, concat and stack copy. Each view's backward maps the gradient back through the inverse view.

import { getBackend } from '../../backend/index.js';
import { record } from '../autograd.js';
import { fmt, normAxis, sizeOf, viewStrides } from '../layout.js';
import { Tensor } from '../tensor.js';
import { sumToShape } from './elementwise.js';

/** A view on x's storage (`op` names the caller in the error for a disposed x). */
function view(x: Tensor, shape: readonly number[], strides: readonly number[], offset: number, op: string): Tensor {
  x.assertAlive(op);
  return new Tensor(x.storage, shape, strides, offset);
}

/** A dense copy when x is not already contiguous (x itself otherwise). */
export function contiguous(x: Tensor): Tensor {
  x.assertAlive('contiguous');
  if (x.isContiguous()) return x;
  const out = Tensor.empty(x.shape, x.dtype);
  copyInto(x, out);
  return record(out, 'contiguous', [x], (g) => [g]);
}

/** dst = src elementwise (same shape and dtype, any strides). */
export function copyInto(src: Tensor, dst: Tensor): void {
  if (src.shape.join() !== dst.shape.join()) throw new Error(`copy: shapes ${fmt(src.shape)} and ${fmt(dst.shape)} differ`);
  if (src.dtype !== dst.dtype) throw new Error(`copy: dtypes ${src.dtype} and ${dst.dtype} differ`);
  getBackend().copy(src.strided('copy'), dst.strided('copy'), src.shape, src.dtype);
}

/** Same elements in a new shape (one dim may be -1); a view when the layout allows, else a copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  if (inferred > 1) throw new Error(`reshape: at most one -1 in ${fmt(shape)}`);
  const rest = sizeOf(known);
  const full = shape.map((d) => (d === -1 ? (rest === 0 ? 0 : x.size / rest) : d));
  if (sizeOf(full) !== x.size || full.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
  }
  const strides = viewStrides(x.shape, x.strides, full);
  const out = strides === null ? reshape(contiguous(x), full) : view(x, full, strides, x.offset, 'reshape');
  return record(out, 'reshape', [x], (g) => [reshape(g, x.shape)]);
}

/** Swaps two axes (a view). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const order = x.shape.map((_, i) => i);
  const i = normAxis(a, x.rank, 'transpose');
  const j = normAxis(b, x.rank, 'transpose');
  [order[i], order[j]] = [order[j]!, order[i]!];
  return permute(x, order);
}

/** Reorders axes (a view): out.shape[i] = x.shape[order[i]]. */
export function permute(x: Tensor, order: readonly number[]): Tensor {
  const axes = order.map((a) => normAxis(a, x.rank, 'permute'));
  if (axes.length !== x.rank || new Set(axes).size !== x.rank) throw new Error(`permute: ${fmt(order)} is not a permutation of ${x.rank} axes`);
  const out = view(x, axes.map((a) => x.shape[a]!), axes.map((a) => x.strides[a]!), x.offset, 'permute');
  const inverse = new Array<number>(x.rank);
  axes.forEach((a, i) => { inverse[a] = i; });
  return record(out, 'permute', [x], (g) => [permute(g, inverse)]);
}

/** Elements start..end-1 along one axis (a view); negative indices count from the end. */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const a = normAxis(axis, x.rank, 'slice');
  const n = x.shape[a]!;
  const s = start < 0 ? start + n : start;
  const e = end === undefined ? n : end < 0 ? end + n : end;
  if (s < 0 || e > n || s > e) throw new Error(`slice: range [${start}, ${end ?? n}) out of bounds for axis ${axis} of ${fmt(x.shape)}`);
  const shape = x.shape.map((d, i) => (i === a ? e - s : d));
  const out = view(x, shape, x.strides, x.offset + s * x.strides[a]!, 'slice');
  return record(out, 'slice', [x], (g) => {
    const dx = Tensor.empty(x.shape); // only [s, e) written: a partial gradient (see mergePartialGrads)
    const region = slice(dx, a, s, e);
    copyInto(g, region);
    region.dispose();
    partialGrads.set(dx, { axis: a, ranges: [[s, e]] });
    return [dx];
  });
}

/**
 * Gradients from slice's backward hold only the ranges (along one axis) the slice covered; the rest is unset and
 * means zero. The pieces of a split (Q, K and V from one projection) then accumulate by copying each range into
 * one buffer instead of zero-filling and adding full tensors; backward completes a partial gradient (zeroes its
 * gaps) before anything reads it.
 */
const partialGrads = new WeakMap<Tensor, { axis: number; ranges: Array<[number, number]> }>();

/** Copies partial gradient gi's ranges into partial gradient prev (owned by backward alone) when they do not overlap; false otherwise. */
export function mergePartialGrads(prev: Tensor, gi: Tensor): boolean {
  const p = partialGrads.get(prev);
  const q = partialGrads.get(gi);
  if (p === undefined || q === undefined || p.axis !== q.axis) return false;
  if (q.ranges.some(([s, e]) => p.ranges.some(([s2, e2]) => s < e2 && s2 < e))) return false;
  for (const [s, e] of q.ranges) {
    const from = slice(gi, q.axis, s, e);
    const to = slice(prev, p.axis, s, e);
    copyInto(from, to);
    from.dispose();
    to.dispose();
  }
  p.ranges.push(...q.ranges);
  return true;
}

/** Zeroes what a partial gradient left unset, making it an ordinary tensor (a no-op for any other tensor). */
export function completeGrad(g: Tensor): void {
  const p = partialGrads.get(g);
  if (p === undefined) return;
  partialGrads.delete(g);
  const ranges = [...p.ranges].sort((u, v) => u[0] - v[0]);
  let at = 0;
  for (const [s, e] of [...ranges, [g.shape[p.axis]!, g.shape[p.axis]!] as [number, number]]) {
    if (s > at) { // one zero broadcast over the gap
      const gap = slice(g, p.axis, at, s);
      const zero = Tensor.empty([1], 'float32', true);
      const cell = zero.reshape(gap.shape.map(() => 1));
      const zeros = cell.expand(gap.shape);
      copyInto(zeros, gap);
      for (const t of [zeros, cell, zero, gap]) t.dispose();
    }
    at = Math.max(at, e);
  }
}

/** Broadcasts size-1 dims (and new leading dims) to `shape` (a view with stride 0). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.rank;
  if (lead < 0) throw new Error(`expand: cannot expand ${fmt(x.shape)} to fewer dims ${fmt(shape)}`);
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    const own = x.shape[i - lead]!;
    if (own === d) return x.strides[i - lead]!;
    if (own === 1) return 0;
    throw new Error(`expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)}`);
  });
  return record(view(x, [...shape], strides, x.offset, 'expand'), 'expand', [x], (g) => [sumToShape(g, x.shape)]);
}

/** Inserts a size-1 axis (a view). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis(axis < 0 ? axis + x.rank + 1 : axis, x.rank + 1, 'unsqueeze');
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Removes a size-1 axis (a view). */
export function squeeze(x: Tensor, axis: number): Tensor {
  const a = normAxis(axis, x.rank, 'squeeze');
  if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${axis} of ${fmt(x.shape)} has size ${x.shape[a]}, not 1`);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

/** Joins tensors along an existing axis (a copy). */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const first = xs[0]!;
  const a = normAxis(axis, first.rank, 'concat');
  for (const x of xs) {
    if (x.rank !== first.rank || x.shape.some((d, i) => i !== a && d !== first.shape[i]) || x.dtype !== first.dtype) {
      throw new Error(`concat: shapes ${xs.map((t) => fmt(t.shape)).join(', ')} (${xs.map((t) => t.dtype).join(', ')}) do not match off axis ${axis}`);
    }
  }
  const sizes = xs.map((x) => x.shape[a]!);
  const out = Tensor.empty(first.shape.map((d, i) => (i === a ? sizes.reduce((p, q) => p + q, 0) : d)), first.dtype);
  let at = 0;
  xs.forEach((x, k) => {
    const region = new Tensor(out.storage, x.shape, out.strides, out.offset + at * out.strides[a]!);
    copyInto(x, region);
    region.dispose();
    at += sizes[k]!;
  });
  return record(out, 'concat', xs, (g) => split(g, sizes, a));
}

/** Splits along an axis into pieces of the given sizes (views). */
export function split(x: Tensor, sizes: readonly number[], axis = 0): Tensor[] {
  const a = normAxis(axis, x.rank, 'split');
  if (sizes.reduce((p, q) => p + q, 0) !== x.shape[a]) throw new Error(`split: sizes ${fmt(sizes)} do not add up to ${x.shape[a]} (axis ${axis} of ${fmt(x.shape)})`);
  let at = 0;
  return sizes.map((n) => slice(x, a, at, (at += n)));
}

/** Stacks same-shaped tensors along a new axis (a copy). */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('stack: needs at least one tensor');
  const a = axis < 0 ? axis + xs[0]!.rank + 1 : axis;
  for (const x of xs) if (x.shape.join() !== xs[0]!.shape.join()) throw new Error(`stack: shapes ${xs.map((t) => fmt(t.shape)).join(', ')} differ`);
  return concat(xs.map((x) => unsqueeze(x, a)), a);
}
