// Every differentiable op against an independent float64 reference: forward values, and the analytic
// gradient of sum(w * f(x)) against central finite differences. Inputs include broadcasting and views
// (transposed, sliced, expanded), and the whole suite runs once per available backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Rng, addLayerNorm, concat, crossEntropy, dropout, embedding, layerNorm, linear, linearCrossEntropy, logSoftmax, packedAttention, matmul, maskedFill, softmax, split, stack, sumSquares, tensor, tidy, where,
  type Tensor,
} from '../src/tensor/index.js';
import { forEachBackend } from './helpers/backends.js';
import { checkGrad, toTensor, type GradCase, type LeafSpec } from './helpers/gradcheck.js';
import * as R from './helpers/reference.js';

type Case = [string, GradCase];

const binaryOps = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const;
type BinaryName = typeof binaryOps[number];

/** Leaf ranges that keep each binary op smooth and well conditioned. */
function binarySpecs(op: BinaryName, a: readonly number[], b: readonly number[]): LeafSpec[] {
  if (op === 'div') return [{ shape: a }, { shape: b, awayFromZero: 0.5 }];
  if (op === 'pow') return [{ shape: a, low: 0.5, high: 2 }, { shape: b }];
  return [{ shape: a }, { shape: b }];
}

function binaryCases(): Case[] {
  const out: Case[] = [];
  for (const op of binaryOps) {
    const f = R.binaryRef[op];
    const ours = (x: Tensor, y: Tensor | number): Tensor => x[op](y);
    out.push(
      [`${op} same shape`, { leaves: binarySpecs(op, [2, 3], [2, 3]), ours: ([a, b]) => ours(a!, b!), ref: ([a, b]) => R.zip([a!, b!], f) }],
      [`${op} broadcast [3,1,4] with [2,4]`, {
        leaves: binarySpecs(op, [3, 1, 4], [2, 4]), via: 'sum', ours: ([a, b]) => ours(a!, b!), ref: ([a, b]) => R.zip([a!, b!], f),
      }],
      [`${op} transposed and sliced views`, {
        leaves: binarySpecs(op, [4, 3], [5, 4]),
        ours: ([a, b]) => ours(a!.transpose(0, 1), b!.slice(0, 1, 4)),
        ref: ([a, b]) => R.zip([R.transpose(a!, 0, 1), R.slice(b!, 0, 1, 4)], f),
      }],
      [`${op} expanded view and scalar`, {
        leaves: binarySpecs(op, [1, 4], [3, 4]),
        ours: ([a, b]) => ours(ours(a!.expand([3, 4]), b!), 1.5),
        ref: ([a, b]) => R.map(R.zip([R.broadcastTo(a!, [3, 4]), b!], f), (v) => f(v, 1.5)),
      }],
    );
  }
  return out;
}

const unaryOps = ['neg', 'exp', 'log', 'sqrt', 'tanh', 'relu', 'sigmoid', 'abs', 'gelu', 'geluTanh'] as const;

function unaryCases(): Case[] {
  const out: Case[] = [];
  for (const op of unaryOps) {
    const f = R.unaryRef[op];
    const spec = op === 'log' || op === 'sqrt' ? { low: 0.3, high: 3 } : op === 'relu' || op === 'abs' ? { awayFromZero: 0.05 } : { low: -3, high: 3 };
    const ours = (x: Tensor): Tensor => (op === 'geluTanh' ? x.gelu('tanh') : op === 'gelu' ? x.gelu() : x[op]());
    out.push(
      [`${op} contiguous`, { leaves: [{ shape: [3, 4], ...spec }], ours: ([x]) => ours(x!), ref: ([x]) => R.map(x!, f) }],
      [`${op} on a transposed slice`, {
        leaves: [{ shape: [5, 3], ...spec }], via: 'sum',
        ours: ([x]) => ours(x!.slice(0, 1, 5).transpose(0, 1)),
        ref: ([x]) => R.map(R.transpose(R.slice(x!, 0, 1, 5), 0, 1), f),
      }],
    );
  }
  return out;
}

const condArr = R.arr([1, 4], [1, 0, 0, 1]);
const fillMask = R.arr([3, 1], [0, 1, 0]);

const selectCases: Case[] = [
  ['where broadcasting cond, a, b', {
    leaves: [{ shape: [3, 4] }, { shape: [3, 1] }],
    ours: ([a, b]) => where(toTensor(condArr), a!, b!),
    ref: ([a, b]) => R.zip([condArr, a!, b!], (c, x, y) => (c !== 0 ? x! : y!)),
  }],
  ['maskedFill with a broadcast mask on a view', {
    leaves: [{ shape: [2, 4, 3] }], via: 'sum',
    ours: ([x]) => maskedFill(x!.transpose(1, 2), toTensor(fillMask), -1.5),
    ref: ([x]) => R.zip([R.transpose(x!, 1, 2), fillMask], (v, m) => (m !== 0 ? -1.5 : v!)),
  }],
];

const reduceCases: Case[] = [
  ['sum all', { leaves: [{ shape: [2, 3, 4] }], ours: ([x]) => x!.sum(), ref: ([x]) => R.sum(x!, [0, 1, 2], false) }],
  ['sum axes [0, 2] keepdim', { leaves: [{ shape: [2, 3, 4] }], ours: ([x]) => x!.sum([0, -1], true), ref: ([x]) => R.sum(x!, [0, 2], true) }],
  ['sum axis 1 of a transposed view', {
    leaves: [{ shape: [4, 3, 2] }], via: 'sum',
    ours: ([x]) => x!.transpose(0, 2).sum(1), ref: ([x]) => R.sum(R.transpose(x!, 0, 2), [1], false),
  }],
  ['sumSquares of a transposed view', {
    leaves: [{ shape: [3, 5] }], ours: ([x]) => sumSquares(x!.transpose(0, 1)), ref: ([x]) => R.sum(R.map(x!, (v) => v * v), [0, 1], false),
  }],
  ['mean all', { leaves: [{ shape: [3, 4] }], ours: ([x]) => x!.mean(), ref: ([x]) => R.mean(x!, [0, 1], false) }],
  ['mean axis 1 keepdim of an expanded view', {
    leaves: [{ shape: [2, 1, 4] }],
    ours: ([x]) => x!.expand([2, 3, 4]).mean(1, true), ref: ([x]) => R.mean(R.broadcastTo(x!, [2, 3, 4]), [1], true),
  }],
  ['max axis -1', { leaves: [{ shape: [3, 5] }], ours: ([x]) => x!.max(-1), ref: ([x]) => R.max(x!, 1, false) }],
  ['max axis 0 keepdim of a slice', {
    leaves: [{ shape: [4, 6] }], via: 'sum',
    ours: ([x]) => x!.slice(1, 1, 5).max(0, true), ref: ([x]) => R.max(R.slice(x!, 1, 1, 5), 0, true),
  }],
];

/** Reference x W^T (+ b) in float64. */
function linearRef(x: R.Arr, w: R.Arr, b: R.Arr | null): R.Arr {
  const y = R.matmul(x, R.transpose(w, 0, 1));
  return b === null ? y : R.zip([y, R.broadcastTo(b, y.shape)], (u, v) => u + v);
}

const linearCases: Case[] = [
  ['linear (bias in the GEMM)', {
    leaves: [{ shape: [2, 3, 4] }, { shape: [5, 4] }, { shape: [5] }],
    ours: ([x, w, b]) => linear(x!, w!, b!), ref: ([x, w, b]) => linearRef(x!, w!, b!),
  }],
  ['linear with row slices of a packed weight and bias', {
    leaves: [{ shape: [2, 3, 4] }, { shape: [9, 4] }, { shape: [9] }],
    ours: ([x, w, b]) => linear(x!, w!.slice(0, 3, 8), b!.slice(0, 3, 8)),
    ref: ([x, w, b]) => linearRef(x!, R.slice(w!, 0, 3, 8), R.slice(b!, 0, 3, 8)),
  }],
  ['linear with an expanded weight (rows overlap) and a bias', {
    leaves: [{ shape: [3, 4] }, { shape: [1, 4] }, { shape: [5] }], via: 'sum',
    ours: ([x, w, b]) => linear(x!, w!.expand([5, 4]), b!), ref: ([x, w, b]) => linearRef(x!, R.broadcastTo(w!, [5, 4]), b!),
  }],
  ['linear on a permuted input, no bias, transposed weight view', {
    leaves: [{ shape: [3, 2, 4] }, { shape: [4, 5] }],
    ours: ([x, w]) => linear(x!.permute([1, 0, 2]), w!.transpose(0, 1), null),
    ref: ([x, w]) => linearRef(R.permute(x!, [1, 0, 2]), R.transpose(w!, 0, 1), null),
  }],
];

const matmulCases: Case[] = [
  ['matmul 2-d', { leaves: [{ shape: [3, 4] }, { shape: [4, 5] }], ours: ([a, b]) => a!.matmul(b!), ref: ([a, b]) => R.matmul(a!, b!) }],
  ['matmul batched', { leaves: [{ shape: [2, 3, 4] }, { shape: [2, 4, 5] }], ours: ([a, b]) => matmul(a!, b!), ref: ([a, b]) => R.matmul(a!, b!) }],
  ['matmul broadcast batch [2,1,3,4] @ [3,4,5]', {
    leaves: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 5] }], via: 'sum', ours: ([a, b]) => matmul(a!, b!), ref: ([a, b]) => R.matmul(a!, b!),
  }],
  ['matmul 2-d @ batched', { leaves: [{ shape: [3, 4] }, { shape: [2, 4, 5] }], ours: ([a, b]) => matmul(a!, b!), ref: ([a, b]) => R.matmul(a!, b!) }],
  ['matmul batched @ 2-d weight', { leaves: [{ shape: [2, 3, 4] }, { shape: [4, 5] }], ours: ([a, b]) => matmul(a!, b!), ref: ([a, b]) => R.matmul(a!, b!) }],
  ['matmul transposed operands', {
    leaves: [{ shape: [2, 4, 3] }, { shape: [2, 5, 4] }],
    ours: ([a, b]) => matmul(a!.transpose(-2, -1), b!.transpose(-2, -1)),
    ref: ([a, b]) => R.matmul(R.transpose(a!, 1, 2), R.transpose(b!, 1, 2)),
  }],
  ['matmul batched @ transposed 2-d weight', {
    leaves: [{ shape: [2, 3, 4] }, { shape: [5, 4] }], via: 'sum',
    ours: ([a, b]) => matmul(a!, b!.transpose()), ref: ([a, b]) => R.matmul(a!, R.transpose(b!, 0, 1)),
  }],
  ['matmul sliced operand (row stride > cols)', {
    leaves: [{ shape: [2, 3, 6] }, { shape: [4, 5] }],
    ours: ([a, b]) => matmul(a!.slice(-1, 1, 5), b!), ref: ([a, b]) => R.matmul(R.slice(a!, 2, 1, 5), b!),
  }],
  ['matmul of heads split from a packed [B, T, 2, h, dK] projection (two-level batch walk)', {
    leaves: [{ shape: [2, 3, 2, 2, 4] }],
    ours: ([p]) => matmul(p!.slice(2, 0, 1).squeeze(2).permute([0, 2, 1, 3]), p!.slice(2, 1, 2).squeeze(2).permute([0, 2, 3, 1])),
    ref: ([p]) => R.matmul(R.permute(R.reshape(R.slice(p!, 2, 0, 1), [2, 3, 2, 4]), [0, 2, 1, 3]),
      R.permute(R.reshape(R.slice(p!, 2, 1, 2), [2, 3, 2, 4]), [0, 2, 3, 1])),
  }],
  ['matmul storing its output as (B, T, h, d) for (B, h, T, d), of head views whose gradients come back in their layout', {
    // Heads of (B, T, h, d) tensors: both matmuls' operands have memory order [0, 2, 1, 3], as does the output.
    leaves: [{ shape: [2, 3, 2, 4] }, { shape: [2, 3, 2, 5] }],
    ours: ([q, v]) => {
      const qh = q!.permute([0, 2, 1, 3]);
      return matmul(matmul(qh, qh.transpose(-2, -1)), v!.permute([0, 2, 1, 3]), [0, 2, 1, 3]);
    },
    ref: ([q, v]) => {
      const qh = R.permute(q!, [0, 2, 1, 3]);
      return R.matmul(R.matmul(qh, R.transpose(qh, 2, 3)), R.permute(v!, [0, 2, 1, 3]));
    },
  }],
  ['matmul permuted batch dims with broadcast batch', {
    leaves: [{ shape: [3, 2, 3, 4] }, { shape: [3, 4, 2] }],
    ours: ([a, b]) => matmul(a!.permute([1, 0, 2, 3]), b!), ref: ([a, b]) => R.matmul(R.permute(a!, [1, 0, 2, 3]), b!),
  }],
  ['matmul expanded batch operand', {
    leaves: [{ shape: [2, 3, 4] }, { shape: [1, 4, 5] }],
    ours: ([a, b]) => matmul(a!, b!.expand([2, 4, 5])), ref: ([a, b]) => R.matmul(a!, R.broadcastTo(b!, [2, 4, 5])),
  }],
];

/** A mask with finite offsets and a few -Infinity entries (never a whole row along `axis`). */
function softmaxMask(shape: readonly number[], hidden: readonly number[]): R.Arr {
  const m = R.arr(shape, Array.from({ length: R.numel(shape) }, (_, i) => -((i * 7) % 5) / 4));
  for (const i of hidden) m.data[i] = -Infinity;
  return m;
}

function softmaxCases(): Case[] {
  const out: Case[] = [];
  for (const log of [false, true]) {
    const op = log ? logSoftmax : softmax;
    const name = log ? 'logSoftmax' : 'softmax';
    const mask = softmaxMask([3, 5], [1, 7, 13]);
    const colMask = softmaxMask([3], []);
    out.push(
      [`${name} last axis`, { leaves: [{ shape: [2, 3, 5] }], ours: ([x]) => op(x!), ref: ([x]) => R.softmax(x!, 2, 1, null, log) }],
      [`${name} with scale and additive mask`, {
        leaves: [{ shape: [2, 3, 5] }], via: 'sum',
        ours: ([x]) => op(x!, -1, { scale: 0.7, mask: toTensor(mask) }), ref: ([x]) => R.softmax(x!, 2, 0.7, mask, log),
      }],
      [`${name} on axis 1 of a transposed view`, {
        leaves: [{ shape: [2, 3, 4] }],
        ours: ([x]) => op(x!.transpose(1, 2), 1), ref: ([x]) => R.softmax(R.transpose(x!, 1, 2), 1, 1, null, log),
      }],
      [`${name} on axis 0 with a lower-rank mask`, {
        leaves: [{ shape: [4, 3] }],
        ours: ([x]) => op(x!, 0, { scale: 2, mask: toTensor(colMask) }), ref: ([x]) => R.softmax(x!, 0, 2, colMask, log),
      }],
      [`${name} on axis 1 with a full mask`, {
        leaves: [{ shape: [2, 5, 3] }], via: 'sum',
        ours: ([x]) => op(x!, 1, { mask: toTensor(R.transpose(mask, 0, 1)) }), ref: ([x]) => R.softmax(x!, 1, 1, R.transpose(mask, 0, 1), log),
      }],
    );
  }
  return out;
}

const ids = [0, 5, 2, 2, 2, 1];
const targets = [1, 4, -100, 0, 0, 3];
const targetsWith2 = [2, 4, 1, 2, 0, 3];

const nnCases: Case[] = [
  ['layerNorm', {
    leaves: [{ shape: [2, 3, 5] }, { shape: [5] }, { shape: [5] }],
    ours: ([x, g, b]) => layerNorm(x!, g!, b!), ref: ([x, g, b]) => R.layerNorm(x!, g!, b!, 1e-5),
  }],
  ['layerNorm of a transposed view, eps 0.1', {
    leaves: [{ shape: [4, 3] }, { shape: [4] }, { shape: [4] }], via: 'sum',
    ours: ([x, g, b]) => layerNorm(x!.transpose(), g!, b!, 0.1), ref: ([x, g, b]) => R.layerNorm(R.transpose(x!, 0, 1), g!, b!, 0.1),
  }],
  ['addLayerNorm: the residual sum and its LayerNorm in one pass, a transposed summand', {
    leaves: [{ shape: [3, 4] }, { shape: [4, 3] }, { shape: [4] }, { shape: [4] }],
    ours: ([x, y, g, b]) => addLayerNorm(x!, y!.transpose(), g!, b!),
    ref: ([x, y, g, b]) => R.layerNorm(R.zip([x!, R.transpose(y!, 0, 1)], (p, q) => p! + q!), g!, b!, 1e-5),
  }],
  ['addLayerNorm of a broadcast summand (the two-step form)', {
    leaves: [{ shape: [2, 3, 4] }, { shape: [4] }, { shape: [4] }, { shape: [4] }],
    ours: ([x, y, g, b]) => addLayerNorm(x!, y!, g!, b!),
    ref: ([x, y, g, b]) => R.layerNorm(R.zip([x!, y!], (p, q) => p! + q!), g!, b!, 1e-5),
  }],
  ['embedding with repeated ids', {
    leaves: [{ shape: [6, 4] }],
    ours: ([w]) => embedding(w!, tensor(ids, [2, 3], 'int32')), ref: ([w]) => R.embedding(w!, ids, [2, 3]),
  }],
  ['crossEntropy with ignoreIndex and labelSmoothing', {
    leaves: [{ shape: [2, 3, 5] }],
    ours: ([x]) => crossEntropy(x!, tensor(targets, [2, 3], 'int32'), { labelSmoothing: 0.1 }),
    ref: ([x]) => R.crossEntropy(x!, targets, -100, 0.1),
  }],
  ['linearCrossEntropy (generator fused into the loss) with bias, ignoreIndex and labelSmoothing', {
    leaves: [{ shape: [2, 3, 4] }, { shape: [5, 4] }, { shape: [5] }],
    ours: ([x, w, b]) => linearCrossEntropy(x!, w!, b!, tensor(targets, [2, 3], 'int32'), { labelSmoothing: 0.1 }).mul(3),
    ref: ([x, w, b]) => R.map(R.crossEntropy(linearRef(x!, w!, b!), targets, -100, 0.1), (v) => 3 * v),
  }],
  ['linearCrossEntropy without bias, weight transposed in memory', {
    leaves: [{ shape: [6, 3] }, { shape: [3, 5] }],
    ours: ([x, w]) => linearCrossEntropy(x!, w!.transpose(), null, tensor(targetsWith2, [6], 'int32'), { ignoreIndex: 2 }),
    ref: ([x, w]) => R.crossEntropy(linearRef(x!, R.transpose(w!, 0, 1), null), targetsWith2, 2, 0),
  }],
  ['crossEntropy plain, custom ignoreIndex, transposed logits', {
    leaves: [{ shape: [5, 6] }],
    ours: ([x]) => crossEntropy(x!.transpose(), tensor(targetsWith2, [6], 'int32'), { ignoreIndex: 2 }),
    ref: ([x]) => R.crossEntropy(R.transpose(x!, 0, 1), targetsWith2, 2, 0),
  }],
];

/**
 * Reference of packedAttention: heads h of d values from columns col of (B, L, width) projections, eq. (1) per head,
 * output (B, T, h dV).
 */
function packedAttentionRef(q: R.Arr, qc: number, k: R.Arr, kc: number, v: R.Arr, vc: number, h: number, dK: number, dV: number, mask: R.Arr | null): R.Arr {
  const heads = (x: R.Arr, c: number, d: number) => {
    const [b, l] = x.shape as [number, number];
    return R.permute(R.reshape(R.slice(x, 2, c, c + h * d), [b, l, h, d]), [0, 2, 1, 3]); // (B, h, L, d)
  };
  const scores = R.matmul(heads(q, qc, dK), R.transpose(heads(k, kc, dK), 2, 3)); // (B, h, T, S)
  const weights = R.softmax(scores, 3, 1 / Math.sqrt(dK), mask === null ? null : R.broadcastTo(mask, scores.shape), false);
  const out = R.matmul(weights, heads(v, vc, dV)); // (B, h, T, dV)
  const [b, , t] = out.shape as [number, number, number];
  return R.reshape(R.permute(out, [0, 2, 1, 3]), [b, t, h * dV]);
}

const causal = R.arr([1, 1, 3, 3], [0, -Infinity, -Infinity, 0, 0, -Infinity, 0, 0, 0]);
const keyPad = R.arr([2, 1, 1, 4], [0, 0, 0, -Infinity, 0, -Infinity, 0, 0]);

const attentionCases: Case[] = [
  ['packedAttention: self-attention on one (B, T, 3d) projection, 2 heads, causal mask', {
    leaves: [{ shape: [2, 3, 12] }],
    ours: ([x]) => packedAttention({ t: x!, col: 0 }, { t: x!, col: 4 }, { t: x!, col: 8 }, 2, 2, { heads: 2, mask: toTensor(causal) }).output,
    ref: ([x]) => packedAttentionRef(x!, 0, x!, 4, x!, 8, 2, 2, 2, causal),
  }],
  ['packedAttention: queries apart, keys and values in one projection with spare columns, padding mask, dV != dK', {
    leaves: [{ shape: [2, 3, 6] }, { shape: [2, 4, 11] }],
    ours: ([q, kv]) => packedAttention({ t: q!, col: 0 }, { t: kv!, col: 1 }, { t: kv!, col: 5 }, 2, 3, { heads: 2, mask: toTensor(keyPad) }).output,
    ref: ([q, kv]) => packedAttentionRef(q!, 0, kv!, 1, kv!, 5, 2, 2, 3, keyPad),
  }],
];

const shapeCases: Case[] = [
  ['reshape (view)', { leaves: [{ shape: [2, 3, 4] }], ours: ([x]) => x!.reshape([4, -1]).mul(x!.reshape([4, 6])), ref: ([x]) => R.zip([R.reshape(x!, [4, 6]), R.reshape(x!, [4, 6])], (a, b) => a! * b!) }],
  ['reshape of a transposed view (copy)', {
    leaves: [{ shape: [3, 4] }], ours: ([x]) => x!.transpose().reshape([2, 6]).exp(), ref: ([x]) => R.map(R.reshape(R.transpose(x!, 0, 1), [2, 6]), Math.exp),
  }],
  ['transpose', { leaves: [{ shape: [2, 3, 4] }], ours: ([x]) => x!.transpose(0, 2).contiguous(), ref: ([x]) => R.transpose(x!, 0, 2) }],
  ['permute', { leaves: [{ shape: [2, 3, 4] }], via: 'sum', ours: ([x]) => x!.permute([2, 0, 1]), ref: ([x]) => R.permute(x!, [2, 0, 1]) }],
  ['slice with negative bounds', { leaves: [{ shape: [3, 6] }], ours: ([x]) => x!.slice(1, -4, -1), ref: ([x]) => R.slice(x!, 1, 2, 5) }],
  ['expand', { leaves: [{ shape: [3, 1] }], ours: ([x]) => x!.expand([2, 3, 4]), ref: ([x]) => R.broadcastTo(x!, [2, 3, 4]) }],
  ['unsqueeze then squeeze', {
    leaves: [{ shape: [3, 4] }], ours: ([x]) => x!.unsqueeze(1).mul(x!.unsqueeze(-1).squeeze(-1).unsqueeze(1)),
    ref: ([x]) => R.reshape(R.map(x!, (v) => v * v), [3, 1, 4]),
  }],
  ['contiguous of a transposed slice', {
    leaves: [{ shape: [4, 5] }], ours: ([x]) => x!.slice(1, 1, 4).transpose().contiguous(), ref: ([x]) => R.transpose(R.slice(x!, 1, 1, 4), 0, 1),
  }],
  ['concat along axis 1 (one operand a view)', {
    leaves: [{ shape: [2, 1, 3] }, { shape: [2, 3, 3] }, { shape: [4, 2, 2] }],
    ours: ([a, b, c]) => concat([a!, b!, c!.permute([1, 2, 0]).slice(2, 1, 4)], 1),
    ref: ([a, b, c]) => R.concat([a!, b!, R.slice(R.permute(c!, [1, 2, 0]), 2, 1, 4)], 1),
  }],
  ['split into two pieces multiplied', {
    leaves: [{ shape: [3, 4] }], ours: ([x]) => { const [p, q] = split(x!, [2, 2], 1); return p!.mul(q!); },
    ref: ([x]) => R.zip([R.slice(x!, 1, 0, 2), R.slice(x!, 1, 2, 4)], (a, b) => a! * b!),
  }],
  ['disjoint slices: partial gradients merged into one buffer, its gaps zeroed', {
    leaves: [{ shape: [2, 6] }],
    ours: ([x]) => concat([x!.slice(1, 0, 1).mul(2), x!.slice(1, 3, 5).mul(3)], 1),
    ref: ([x]) => R.concat([R.map(R.slice(x!, 1, 0, 1), (v) => 2 * v), R.map(R.slice(x!, 1, 3, 5), (v) => 3 * v)], 1),
  }],
  ['overlapping slices: partial gradients added, not merged', {
    leaves: [{ shape: [2, 6] }],
    ours: ([x]) => concat([x!.slice(1, 2, 4).mul(x!.slice(1, 2, 4)), x!.slice(1, 3, 6)], 1),
    ref: ([x]) => R.concat([R.map(R.slice(x!, 1, 2, 4), (v) => v * v), R.slice(x!, 1, 3, 6)], 1),
  }],
  ['split middle piece', {
    leaves: [{ shape: [6, 2] }], ours: ([x]) => split(x!, [1, 3, 2], 0)[1]!, ref: ([x]) => R.slice(x!, 0, 1, 4),
  }],
  ['stack along axis 1 and -1', {
    leaves: [{ shape: [2, 3] }, { shape: [2, 3] }], via: 'sum',
    ours: ([a, b]) => stack([a!, b!], 1).mul(stack([b!, a!], -1).transpose(1, 2)),
    ref: ([a, b]) => {
      const s1 = R.concat([R.reshape(a!, [2, 1, 3]), R.reshape(b!, [2, 1, 3])], 1);
      const s2 = R.concat([R.reshape(b!, [2, 3, 1]), R.reshape(a!, [2, 3, 1])], 2);
      return R.zip([s1, R.transpose(s2, 1, 2)], (p, q) => p! * q!);
    },
  }],
];

/** Random shapes from a seeded generator: a pair that broadcasts (some dims 1, leading dims dropped). */
function randomBroadcastPair(rng: Rng): [number[], number[]] {
  const full = Array.from({ length: 1 + rng.int(3) }, () => 2 + rng.int(3));
  const thin = (shape: number[]): number[] => shape.slice(rng.int(shape.length)).map((d) => (rng.uniform() < 0.5 ? 1 : d));
  return rng.uniform() < 0.5 ? [full, thin(full)] : [thin(full), full];
}

function randomShapeCases(): Case[] {
  const rng = new Rng(2024);
  const out: Case[] = [];
  for (let trial = 0; trial < 4; trial++) {
    for (const op of binaryOps) {
      const [a, b] = randomBroadcastPair(rng);
      const f = R.binaryRef[op];
      out.push([`${op} random shapes [${a}] and [${b}]`, {
        leaves: binarySpecs(op, a, b), seed: trial, ours: ([x, y]) => x![op](y!), ref: ([x, y]) => R.zip([x!, y!], f),
      }]);
    }
    const [batchA, batchB] = randomBroadcastPair(rng);
    const [m, k, n] = [1 + rng.int(4), 1 + rng.int(4), 1 + rng.int(4)];
    const [transA, transB] = [rng.uniform() < 0.5, rng.uniform() < 0.5];
    const operand = (batch: number[], r: number, c: number, trans: boolean) => ({
      shape: [...batch, ...(trans ? [c, r] : [r, c])],
      ours: (t: Tensor) => (trans ? t.transpose() : t),
      ref: (t: R.Arr) => (trans ? R.transpose(t, t.shape.length - 2, t.shape.length - 1) : t),
    });
    const A = operand(batchA, m, k, transA);
    const B = operand(batchB, k, n, transB);
    out.push([`matmul random [${A.shape}]${transA ? '^T' : ''} @ [${B.shape}]${transB ? '^T' : ''}`, {
      leaves: [{ shape: A.shape }, { shape: B.shape }], seed: trial,
      ours: ([x, y]) => matmul(A.ours(x!), B.ours(y!)), ref: ([x, y]) => R.matmul(A.ref(x!), B.ref(y!)),
    }]);
    const shape = Array.from({ length: 1 + rng.int(3) }, () => 1 + rng.int(4));
    const axes = shape.map((_, i) => i).filter(() => rng.uniform() < 0.5);
    const keepdim = rng.uniform() < 0.5;
    const axis = rng.int(shape.length);
    out.push(
      [`sum random [${shape}] over [${axes}]${keepdim ? ' keepdim' : ''}`, {
        leaves: [{ shape }], seed: trial, ours: ([x]) => x!.sum(axes, keepdim), ref: ([x]) => R.sum(x!, axes, keepdim),
      }],
      [`softmax random [${shape}] axis ${axis}`, {
        leaves: [{ shape }], seed: trial, ours: ([x]) => softmax(x!, axis, { scale: 1.3 }), ref: ([x]) => R.softmax(x!, axis, 1.3, null, false),
      }],
    );
  }
  return out;
}

const allCases: Case[] = [
  ...binaryCases(), ...unaryCases(), ...selectCases, ...reduceCases, ...matmulCases, ...linearCases, ...softmaxCases(), ...nnCases, ...shapeCases,
  ...randomShapeCases(),
  ...attentionCases,
];

forEachBackend('gradcheck', () => {
  for (const [name, c] of allCases) test(name, () => checkGrad(name, c));

  test('dropout: output is x * mask / (1 - p) and the gradient is w * the same pattern', () => {
    const p = 0.3;
    const [rows, cols] = [40, 50];
    const x = Float32Array.from({ length: rows * cols }, (_, i) => 1 + (i % 7));
    const w = Float32Array.from({ length: rows * cols }, (_, i) => ((i * 13) % 11) - 5);
    tidy(() => {
      const xt = tensor(x, [rows, cols]).requireGrad();
      const y = dropout(xt.transpose(), p, true, new Rng(7)).transpose();
      const out = y.toArray();
      y.backward(tensor(w, [rows, cols]));
      const grad = xt.grad!.toArray();
      let dropped = 0;
      for (let i = 0; i < x.length; i++) {
        const kept = out[i] !== 0;
        if (!kept) dropped++;
        const scale = kept ? 1 / (1 - p) : 0;
        assert.ok(Math.abs(out[i]! - x[i]! * scale) <= 1e-5 * x[i]! * scale, `forward ${i}: ${out[i]} vs ${x[i]! * scale}`);
        assert.ok(Math.abs(grad[i]! - w[i]! * scale) <= 1e-5 * (1 + Math.abs(w[i]! * scale)), `grad ${i}: ${grad[i]} vs ${w[i]! * scale}`);
      }
      assert.ok(Math.abs(dropped / x.length - p) < 0.04, `dropped fraction ${dropped / x.length} far from ${p}`);
      xt.zeroGrad();
    });
  });
});
