// Scaled dot-product attention, eq. (1), as one op over head-packed projections (§3.2.2). Where the backend has
// the packedAttention fused path, the weights come from one kernel that never stores the raw scores, the heads
// are read where the Q, K and V projections put them, and backward writes dQ, dK and dV straight into the layout
// of those projections (one buffer when Q, K and V are columns of one projection), so no head is split, merged
// or copied on the way. Otherwise the same maths runs as composed ops (views, matmul, softmax, dropout).

import { getBackend, type HeadPacked } from '../../backend/index.js';
import { needsGrad, record } from '../autograd.js';
import { broadcastShapes, broadcastStrides, fmt, isContiguous } from '../layout.js';
import { globalRng, type Rng } from '../random.js';
import { Tensor } from '../tensor.js';
import { zeros } from './create.js';
import { asTensor } from './elementwise.js';
import { matmul } from './matmul.js';
import { dropout as dropoutOp, softmax } from './nn.js';

/** h heads of d values at columns col .. col + h d of a contiguous (B, L, width) projection. */
export interface PackedHeads { readonly t: Tensor; readonly col: number; }

/** Options of packedAttention. */
export interface PackedAttentionOptions {
  heads: number;
  /** Additive mask broadcastable to (B, h, T, S) (0 attend, -Infinity hide). */
  mask?: Tensor;
  /** Dropout on the weights (its mask drawn as dropout() on the (B, h, T, S) weights would draw it). */
  dropout?: number;
  rng?: Rng;
}

/** Checks a packed operand of `rows` positions per batch entry; returns it as a kernel operand. */
function operand(x: PackedHeads, name: string, batch: number, rows: number, heads: number, d: number): HeadPacked {
  const t = asTensor(x.t, 'packedAttention');
  if (t.rank !== 3 || t.shape[0] !== batch || t.shape[1] !== rows || !isContiguous(t.shape, t.strides)) {
    throw new Error(`packedAttention: ${name} must be a contiguous (${batch}, ${rows}, width) projection, got ${fmt(t.shape)}`);
  }
  const width = t.shape[2]!;
  if (!(Number.isInteger(x.col) && x.col >= 0 && x.col + heads * d <= width)) {
    throw new Error(`packedAttention: ${name}'s ${heads} heads of ${d} from column ${x.col} do not fit its width ${width}`);
  }
  return { ...t.dense('packedAttention'), rowStride: width, col: x.col };
}

/**
 * softmax(q k^T / sqrt(dK) + mask) v per head, the heads read from projections: q (B, T, ·), k and v (B, S, ·),
 * head i of q at columns q.col + i dK (k likewise, v with dV) -> (B, T, h dV), Concat(head_1 .. head_h) of
 * §3.2.2. Also returns the weights (B, h, T, S) before dropout (disposed with the graph when not kept).
 */
export function packedAttention(q: PackedHeads, k: PackedHeads, v: PackedHeads, dK: number, dV: number,
  opts: PackedAttentionOptions): { output: Tensor; weights: Tensor } {
  const { heads } = opts;
  const [batch, tq] = q.t.shape as [number, number];
  const tk = k.t.shape[1]!;
  const dims = { batch, heads, tq, tk, dK, dV, scale: 1 / Math.sqrt(dK) };
  const qp = operand(q, 'q', batch, tq, heads, dK);
  const kp = operand(k, 'k', batch, tk, heads, dK);
  const vp = operand(v, 'v', batch, tk, heads, dV);
  const roles = [[q, heads * dK], [k, heads * dK], [v, heads * dV]] as const;
  for (let i = 0; i < 3; i++) {
    for (let j = i + 1; j < 3; j++) {
      const [[a, wa], [b, wb]] = [roles[i]!, roles[j]!];
      if (a.t === b.t && a.col < b.col + wb && b.col < a.col + wa) {
        throw new Error(`packedAttention: heads at columns ${a.col} and ${b.col} of one projection overlap; their gradients would collide`);
      }
    }
  }
  const shape = [batch, heads, tq, tk];
  const mask = opts.mask === undefined ? null : asTensor(opts.mask, 'packedAttention');
  if (mask !== null && broadcastShapes(shape, mask.shape, 'packedAttention').join() !== shape.join()) {
    throw new Error(`packedAttention: mask ${fmt(mask.shape)} does not broadcast to the weights ${fmt(shape)}`);
  }
  const p = opts.dropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new Error(`packedAttention: dropout must be in [0, 1), got ${p}`);
  const backend = getBackend();
  const fused = backend.fused.packedAttention;
  const weights = Tensor.empty(shape); // (B, h, T, S)
  const scoresArgs = { ...dims, q: qp, k: kp, probs: weights.dense(),
    mask: mask === null ? null : { ...mask.dense('packedAttention'), strides: broadcastStrides(mask.shape, mask.strides, shape) } };
  if (fused === undefined || fused.scores.refuses(scoresArgs) !== null) {
    weights.dispose();
    return composedAttention(q, k, v, dK, dV, opts);
  }
  fused.scores.run(scoresArgs);
  const n = weights.size;
  const keepBits = p > 0 ? Tensor.empty([Math.ceil(n / 32)], 'int32') : null;
  const dropped = keepBits === null ? weights : Tensor.empty(shape);
  if (keepBits !== null) {
    backend.dropout({ x: weights.dense(), n, p, state: (opts.rng ?? globalRng).rawState(), out: dropped.dense(), keepBits: keepBits.dense() });
  }
  const output = Tensor.empty([batch, tq, heads * dV]); // (B, T, h, dV): heads side by side
  backend.gemm({ // per (b, head): dropout(P) (T, S) @ V (S, dV), read from and written to the packed layouts
    batch: batch * heads, batchInner: heads, m: tq, n: dV, k: tk, transA: false, transB: false,
    a: dropped.dense().buf, aOffset: 0, lda: tk, strideA: tq * tk, strideAOuter: heads * tq * tk,
    b: vp.buf, bOffset: vp.offset + vp.col, ldb: vp.rowStride, strideB: dV, strideBOuter: tk * vp.rowStride,
    out: output.dense().buf, alpha: 1, beta: 0, ldc: heads * dV, strideC: dV, strideCOuter: tq * heads * dV,
  });
  if (dropped !== weights) dropped.dispose();
  const inputs = [...new Set([q.t, k.t, v.t])];
  if (!needsGrad(...inputs)) {
    keepBits?.dispose();
    return { output, weights };
  }
  record(output, 'attention', inputs, (g) => {
    const go = g.contiguous();
    // One gradient buffer per distinct projection; columns that no head covers stay zero.
    const grads = new Map(inputs.map((t) => {
      const covered = [q, k, v].filter((x) => x.t === t).reduce((s, x) => s + heads * (x === v ? dV : dK), 0);
      return [t, covered === t.shape[2] ? Tensor.empty(t.shape) : zeros(t.shape)];
    }));
    const into = (x: PackedHeads): HeadPacked => ({ ...grads.get(x.t)!.dense(), rowStride: x.t.shape[2]!, col: x.col });
    const back = 'packedAttention backward';
    fused.backward.run({ ...dims, q: operand(q, 'q', batch, tq, heads, dK), k: operand(k, 'k', batch, tk, heads, dK),
      v: operand(v, 'v', batch, tk, heads, dV), probs: weights.dense(back),
      dropout: keepBits === null ? null : { keepBits: keepBits.dense(back), p }, dOut: go.dense(), dq: into(q), dk: into(k), dv: into(v) });
    if (go !== g) go.dispose();
    return inputs.map((t) => grads.get(t)!);
  });
  return { output, weights };
}

/** Heads of a packed operand as (B, h, L, d): a view of the projection, no copy. */
function headsOf(x: PackedHeads, heads: number, d: number): Tensor {
  const [b, len] = x.t.shape as [number, number];
  return x.t.slice(2, x.col, x.col + heads * d).reshape([b, len, heads, d]).permute([0, 2, 1, 3]);
}

/** packedAttention as composed ops (the fallback where the fused path is absent or refuses): the same eq. (1). */
function composedAttention(q: PackedHeads, k: PackedHeads, v: PackedHeads, dK: number, dV: number,
  opts: PackedAttentionOptions): { output: Tensor; weights: Tensor } {
  const { heads } = opts;
  const [batch, tq] = q.t.shape as [number, number];
  const scores = matmul(headsOf(q, heads, dK), headsOf(k, heads, dK).transpose(-2, -1)); // (B, h, T, S)
  const weights = softmax(scores, -1, { scale: 1 / Math.sqrt(dK), ...(opts.mask === undefined ? {} : { mask: opts.mask }) });
  const p = opts.dropout ?? 0;
  const dropped = p > 0 ? dropoutOp(weights, p, true, opts.rng ?? globalRng) : weights;
  const out = matmul(dropped, headsOf(v, heads, dV)); // (B, h, T, dV)
  return { output: out.permute([0, 2, 1, 3]).reshape([batch, tq, heads * dV]), weights };
}
