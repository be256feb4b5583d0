// Batched matrix multiply with broadcast batch dims. Transposed operands (e.g. k.transpose(-2, -1)) reach
// GEMM as a transpose flag plus leading dimension, never as a copy. And the Linear map x W^T + b as one GEMM
// call with the bias added by the kernel.

import { getBackend } from '../../backend/index.js';
import { needsGrad, record } from '../autograd.js';
import { broadcastShapes, fmt, sizeOf } from '../layout.js';
import { Tensor } from '../tensor.js';
import { add, asTensor, sumToShape } from './elementwise.js';
import { sum } from './reduce.js';

/** How a matrix (the last two dims) is laid out for GEMM: row-major (ld = row stride) or transposed. */
interface MatrixLayout { trans: boolean; ld: number; }

function matrixLayout(x: Tensor): MatrixLayout | null {
  const r = x.shape[x.rank - 2]!;
  const c = x.shape[x.rank - 1]!;
  const sr = x.strides[x.rank - 2]!;
  const sc = x.strides[x.rank - 1]!;
  if ((sc === 1 || c === 1) && (sr >= c || r === 1)) return { trans: false, ld: Math.max(r === 1 ? c : sr, 1) };
  if ((sr === 1 || r === 1) && (sc >= r || c === 1)) return { trans: true, ld: Math.max(c === 1 ? r : sc, 1) };
  return null;
}

/** Strides of x's batch dims aligned to `batch` (0 where x is broadcast). */
function batchDimStrides(x: Tensor, batch: readonly number[]): number[] {
  const lead = batch.length - (x.rank - 2);
  return batch.map((_, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : x.strides[i - lead]!));
}

/** One stride that walks batch dims [from, to), or null when they do not collapse into one. */
function collapse(strides: readonly number[], batch: readonly number[], from: number, to: number): number | null {
  let stride: number | null = null;
  let span = 0;
  for (let i = to - 1; i >= from; i--) {
    if (batch[i] === 1) continue;
    const s = strides[i]!;
    if (stride === null) stride = s;
    else if (s !== span) return null;
    span = s * batch[i]!;
  }
  return stride ?? 0;
}

/** How GEMM walks the batch: an inner group of dims and an outer one, each one stride per operand (c: output). */
interface BatchWalk { inner: number; sa: number; sb: number; sc: number; saOuter: number; sbOuter: number; scOuter: number; }

/**
 * The first split of the batch dims into outer and inner groups that both operands, and the output's batch
 * strides `cs`, walk without a copy.
 */
function batchWalk(a: Tensor, b: Tensor, batch: readonly number[], cs: readonly number[]): BatchWalk | null {
  const as = batchDimStrides(a, batch);
  const bs = batchDimStrides(b, batch);
  for (let at = 0; at <= batch.length; at++) { // at = 0: one level
    const sa = collapse(as, batch, at, batch.length);
    const sb = collapse(bs, batch, at, batch.length);
    const sc = collapse(cs, batch, at, batch.length);
    const saOuter = collapse(as, batch, 0, at);
    const sbOuter = collapse(bs, batch, 0, at);
    const scOuter = collapse(cs, batch, 0, at);
    if (sa !== null && sb !== null && sc !== null && saOuter !== null && sbOuter !== null && scOuter !== null) {
      return { inner: sizeOf(batch.slice(at)), sa, sb, sc, saOuter, sbOuter, scOuter };
    }
  }
  return null;
}

/**
 * An output of `shape` stored with its dims in `order` (outermost first, the last dim last), as a view in
 * logical order: e.g. (B, h, T, d) stored as (B, T, h, d) by [0, 2, 1, 3]. Null when order is absent, the
 * identity or not such a permutation.
 */
function outputIn(shape: readonly number[], order: readonly number[] | undefined): Tensor | null {
  const r = shape.length;
  const valid = order !== undefined && order.length === r && order[r - 1] === r - 1 && [...order].sort((p, q) => p - q).every((d, i) => d === i);
  if (!valid || order.every((d, i) => d === i)) return null;
  const stored = Tensor.empty(order.map((d) => shape[d]!));
  const inverse = order.map((_, i) => order.indexOf(i));
  const view = stored.permute(inverse); // shares the storage, which outlives `stored`
  stored.dispose();
  return view;
}

/** x's dims from outermost to innermost in memory when its strides order them strictly and the last is innermost. */
function memoryOrder(x: Tensor): number[] | undefined {
  const order = x.shape.map((_, i) => i).sort((p, q) => x.strides[q]! - x.strides[p]!);
  for (let i = 1; i < order.length; i++) if (x.strides[order[i]!]! >= x.strides[order[i - 1]!]!) return undefined;
  return order[order.length - 1] === x.rank - 1 ? order : undefined;
}

/**
 * Row-major product of the last two dims, batch dims broadcast: [..., m, k] @ [..., k, n] -> [..., m, n]. With
 * `outOrder` (a permutation keeping the last dim last) the result is stored with its dims in that order, e.g.
 * [0, 2, 1, 3] writes attention's (B, h, T, dV) output as (B, T, h, dV), where merging the heads is a view.
 */
export function matmul(x: Tensor, y: Tensor, outOrder?: readonly number[]): Tensor {
  let a = asTensor(x, 'matmul');
  let b = asTensor(y, 'matmul');
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: operands need at least 2 dims, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const m = a.shape[a.rank - 2]!;
  const k = a.shape[a.rank - 1]!;
  const n = b.shape[b.rank - 1]!;
  if (b.shape[b.rank - 2] !== k) throw new Error(`matmul: inner dimensions differ: ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
  let la = matrixLayout(a);
  if (la === null) { a = a.contiguous(); la = matrixLayout(a)!; }
  let lb = matrixLayout(b);
  if (lb === null) { b = b.contiguous(); lb = matrixLayout(b)!; }
  const ordered = outputIn([...batch, m, n], outOrder);
  let out = ordered ?? Tensor.empty([...batch, m, n]);
  const cs = (): number[] => batch.map((_, i) => out.strides[i]!);
  // Batch dims walked by two strides at most (heads split from a [B, T, h, dK] view are); otherwise one copy.
  let walk = batchWalk(a, b, batch, cs());
  if (walk === null && ordered !== null) { // an output layout no split fits: dense instead
    out.dispose();
    out = Tensor.empty([...batch, m, n]);
    walk = batchWalk(a, b, batch, cs());
  }
  const custom = out === ordered;
  if (walk === null && collapse(batchDimStrides(a, batch), batch, 0, batch.length) === null) {
    a = a.expand([...batch, m, k]).contiguous();
    la = matrixLayout(a)!;
    walk = batchWalk(a, b, batch, cs());
  }
  if (walk === null) {
    b = b.expand([...batch, k, n]).contiguous();
    lb = matrixLayout(b)!;
    walk = batchWalk(a, b, batch, cs())!;
  }
  const count = sizeOf(batch);
  const oneLevel = walk.inner === count;
  // A 2-d weight shared by every batch item, rows of `a` that stack densely, a dense output: one tall GEMM.
  const tall = oneLevel && !la.trans && b.rank === 2 && walk.sa === m * la.ld && !custom;
  getBackend().gemm({
    batch: tall ? 1 : count, m: tall ? m * count : m, n, k, transA: la.trans, transB: lb.trans,
    a: a.dense('matmul').buf, aOffset: a.offset, lda: la.ld, strideA: tall ? 0 : walk.sa,
    b: b.dense('matmul').buf, bOffset: b.offset, ldb: lb.ld, strideB: tall ? 0 : walk.sb, out: out.dense().buf, outOffset: out.offset, alpha: 1, beta: 0,
    ...(oneLevel ? {} : { batchInner: walk.inner, strideAOuter: walk.saOuter, strideBOuter: walk.sbOuter }),
    ...(custom ? { ldc: out.strides[out.rank - 2]!, strideC: walk.sc, strideCOuter: walk.scOuter } : {}),
  });
  if (!needsGrad(x, y)) return out;
  // Gradients come out in their operand's memory order, so that views of a projection (split heads) take them
  // back without a copy.
  return record(out, 'matmul', [x, y], (g) => [
    x.requiresGrad ? sumToShape(matmul(g, b.transpose(-2, -1), sameShape(x, batch, m, k) ? memoryOrder(x) : undefined), x.shape) : null,
    y.requiresGrad ? weightGrad(a, g, y, tall ? count * m : 0, sameShape(y, batch, k, n) ? memoryOrder(y) : undefined) : null,
  ]);
}

/** Whether x has exactly the shape [...batch, r, c] (no broadcast dims). */
function sameShape(x: Tensor, batch: readonly number[], r: number, c: number): boolean {
  return x.rank === batch.length + 2 && [...batch, r, c].every((d, i) => x.shape[i] === d);
}

/**
 * dL/dB = A^T G. When B was a 2-d weight shared by a stack of row blocks (a Linear layer), that is one GEMM
 * over all rows, (k, rows) @ (rows, n), instead of one per batch item summed afterwards.
 */
function weightGrad(a: Tensor, g: Tensor, y: Tensor, rows: number, order: number[] | undefined): Tensor {
  if (rows === 0) return sumToShape(matmul(a.transpose(-2, -1), g, order), y.shape);
  const k = a.shape[a.rank - 1]!;
  const n = g.shape[g.rank - 1]!;
  return matmul(a.reshape([rows, k]).transpose(0, 1), g.reshape([rows, n])); // (k, rows) @ (rows, n) -> (k, n)
}

/**
 * x W^T + b with PyTorch's weight layout [out, in]: one GEMM over all rows of x, the bias added by the kernel.
 * x (..., in), weight [out, in], bias [out] or null -> (..., out).
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  asTensor(x, 'linear');
  asTensor(weight, 'linear');
  if (bias !== null) asTensor(bias, 'linear');
  const inF = x.shape[x.rank - 1];
  if (weight.rank !== 2 || inF === undefined || weight.shape[1] !== inF) {
    throw new Error(`linear: weight ${fmt(weight.shape)} does not map inputs ${fmt(x.shape)} (expected [out, ${inF ?? '?'}])`);
  }
  const outF = weight.shape[0]!;
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== outF)) throw new Error(`linear: bias ${fmt(bias.shape)} should be [${outF}]`);
  // Weight rows must be dense and apart for a transposed GEMM operand, the bias a dense row (row slices of packed
  // weights are); anything else (a transposed or expanded weight) goes through matmul.
  const rowsApart = outF <= 1 || weight.strides[0]! >= inF;
  if ((weight.strides[1] !== 1 && inF > 1) || !rowsApart || (bias !== null && bias.strides[0] !== 1 && outF > 1)) {
    const y = matmul(x, weight.transpose(0, 1));
    return bias === null ? y : add(y, bias);
  }
  const xc = x.contiguous();
  const rows = x.size / Math.max(inF, 1);
  const out = Tensor.empty([...x.shape.slice(0, -1), outF]); // (..., out)
  getBackend().gemm({
    batch: 1, m: rows, n: outF, k: inF, transA: false, transB: true,
    a: xc.dense('linear').buf, aOffset: xc.offset, lda: Math.max(inF, 1), strideA: 0,
    b: weight.dense('linear').buf, bOffset: weight.offset, ldb: Math.max(weight.strides[0]!, inF, 1), strideB: 0,
    out: out.dense().buf, alpha: 1, beta: 0, bias: bias === null ? null : bias.dense('linear'),
  });
  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  if (!needsGrad(...inputs)) {
    if (xc !== x) xc.dispose();
    return out;
  }
  return record(out, 'linear', inputs, (g) => {
    const g2 = g.reshape([rows, outF]);
    return [
      x.requiresGrad ? matmul(g2, weight).reshape(x.shape) : null, // (rows, out) @ (out, in)
      weight.requiresGrad ? matmul(g2.transpose(0, 1), xc.reshape([rows, inF])) : null, // (out, rows) @ (rows, in)
      ...(bias === null ? [] : [bias.requiresGrad ? sum(g2, 0) : null]),
    ];
  });
}
