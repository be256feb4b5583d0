import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdditiveAttention, GeneralAttention, MultiHeadAttention, scaledDotProductAttention } from '../src/nn/attention.js';
import { causalMask, combineMasks, keyPaddingMask } from '../src/nn/masks.js';
import { Rng, packedAttention, randn, tensor } from '../src/tensor/index.js';
import type { Tensor } from '../src/tensor/index.js';

const B = 2, H = 2, T = 4, S = 5, DK = 3;
type Score = (q: Float64Array, k: Float64Array) => number;

/** Float64 reference: per (b, h, i): softmax over allowed j of score(q_i, k_j), then the weighted sum of v_j. */
function reference(q: Tensor, k: Tensor, v: Tensor, score: Score, allowed: (b: number, i: number, j: number) => boolean): { out: number[]; w: number[] } {
  const [qa, ka, va] = [q.toArray(), k.toArray(), v.toArray()];
  const out: number[] = [];
  const w: number[] = [];
  const row = (a: ArrayLike<number>, base: number) => Float64Array.from({ length: DK }, (_, c) => a[base + c]!);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    const qi = row(qa, ((b * H + h) * T + i) * DK);
    const s = Array.from({ length: S }, (_, j) => (allowed(b, i, j) ? score(qi, row(ka, ((b * H + h) * S + j) * DK)) : -Infinity));
    const mx = Math.max(...s);
    const e = s.map((x) => Math.exp(x - mx));
    const z = e.reduce((p, x) => p + x, 0);
    const p = e.map((x) => x / z);
    w.push(...p);
    for (let c = 0; c < DK; c++) out.push(p.reduce((acc, pj, j) => acc + pj * va[((b * H + h) * S + j) * DK + c]!, 0));
  }
  return { out, w };
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) < 1e-5, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

const rng = new Rng(11);
const q = randn([B, H, T, DK], { rng });
const k = randn([B, H, S, DK], { rng });
const v = randn([B, H, S, DK], { rng });
const padding = tensor([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]); // batch 0: last two keys are padding
const padMask = keyPaddingMask(padding); // (B, 1, 1, S)
const notPad = (b: number, _i: number, j: number) => !(b === 0 && j >= 3);
const dot = (a: Float64Array, b: Float64Array) => a.reduce((p, x, c) => p + x * b[c]!, 0);

test('scaled dot-product attention (eq. 1) matches a float64 reference, with key padding', () => {
  const { output, weights } = scaledDotProductAttention(q, k, v, { mask: padMask, returnWeights: true });
  const ref = reference(q, k, v, (a, b) => dot(a, b) / Math.sqrt(DK), notPad);
  assertClose(output.toArray(), ref.out, 'output');
  assertClose(weights!.toArray(), ref.w, 'weights');
  const w = weights!.toArray();
  for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) assert.equal(w[((0 * H + h) * T + i) * S + 4], 0, 'padded key gets no weight');
  assert.equal(scaledDotProductAttention(q, k, v).weights, null, 'weights only on request');
});

test('causal mask combined with padding hides future and padded keys', () => {
  const qq = randn([B, H, T, DK], { rng });
  const kk = randn([B, H, T, DK], { rng });
  const vv = randn([B, H, T, DK], { rng });
  const tgtPad = keyPaddingMask(tensor([[0, 0, 0, 1], [0, 0, 0, 0]]));
  const mask = combineMasks(causalMask(T), tgtPad)!;
  assert.deepEqual(mask.shape, [B, 1, T, T]);
  const { weights } = scaledDotProductAttention(qq, kk, vv, { mask, returnWeights: true });
  const w = weights!.toArray();
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) {
    const hidden = j > i || (b === 0 && j === 3);
    if (hidden) assert.equal(w[((b * H + h) * T + i) * T + j], 0, `b${b} h${h} i${i} j${j}`);
  }
});

test('additive attention v^T tanh(W q + U k) matches a float64 reference and respects masks', () => {
  const att = new AdditiveAttention(DK, 4, new Rng(5));
  const [wq, wk, va] = [att.wQ.toArray(), att.wK.toArray(), att.v.toArray()];
  const score: Score = (qi, kj) => {
    let s = 0;
    for (let a = 0; a < 4; a++) {
      let x = 0;
      for (let c = 0; c < DK; c++) x += wq[a * DK + c]! * qi[c]! + wk[a * DK + c]! * kj[c]!;
      s += va[a]! * Math.tanh(x);
    }
    return s;
  };
  const { output, weights } = att.forward(q, k, v, { mask: padMask, returnWeights: true });
  const ref = reference(q, k, v, score, notPad);
  assertClose(output.toArray(), ref.out, 'output');
  assertClose(weights!.toArray(), ref.w, 'weights');
  output.sum().backward();
  assert.ok(att.wQ.grad !== null && att.v.grad !== null, 'parameters receive gradients');
});

test('general (multiplicative) attention q^T W k matches a float64 reference and respects masks', () => {
  const att = new GeneralAttention(DK, new Rng(6));
  const wm = att.weight.toArray();
  const score: Score = (qi, kj) => {
    let s = 0;
    for (let a = 0; a < DK; a++) for (let c = 0; c < DK; c++) s += qi[a]! * wm[a * DK + c]! * kj[c]!;
    return s;
  };
  const { output, weights } = att.forward(q, k, v, { mask: padMask, returnWeights: true });
  const ref = reference(q, k, v, score, notPad);
  assertClose(output.toArray(), ref.out, 'output');
  assertClose(weights!.toArray(), ref.w, 'weights');
});

test('MultiHeadAttention: torch names, self and cross use agree with explicit projections, weights recorded', () => {
  const d = 6;
  const mha = new MultiHeadAttention(d, 2, { rng: new Rng(2), recordWeights: true }).eval();
  assert.deepEqual(mha.namedParameters().map(([n, t]) => `${n}:${t.shape.join('x')}`),
    ['in_proj_weight:18x6', 'in_proj_bias:18', 'out_proj.weight:6x6', 'out_proj.bias:6']);
  mha.inProjBias.assign(Float32Array.from({ length: 18 }, (_, i) => 0.01 * i));
  const x = randn([2, 3, d], { rng });
  const self = mha.forward(x, x, x);
  assert.deepEqual(self.shape, [2, 3, d]);
  assert.deepEqual(mha.lastWeights!.shape, [2, 2, 3, 3]);
  // The same computation through the separate-projection path (distinct but equal tensors).
  const separate = mha.forward(x, x.mul(1), x.add(0));
  assertClose(separate.toArray(), Array.from(self.toArray()), 'self vs separate projections');
  const memory = randn([2, 5, d], { rng });
  const cross = mha.forward(x, memory, memory, padMask);
  assert.deepEqual(cross.shape, [2, 3, d]);
  assert.deepEqual(mha.lastWeights!.shape, [2, 2, 3, 5]);
  const w = mha.lastWeights!.toArray();
  assert.equal(w[4], 0, 'padded memory position gets no weight');
  for (const kind of ['additive', 'general'] as const) {
    const m = new MultiHeadAttention(d, 2, { attention: kind, rng: new Rng(3) });
    m.forward(x, memory, memory, padMask).sum().backward();
    assert.ok(m.parameters().every((p) => p.grad !== null), `${kind}: every parameter gets a gradient`);
  }
});

test('MultiHeadAttention: the fused attention op equals the unfused path (recording weights), dropout on the weights included', () => {
  const [d, h] = [12, 3];
  const x = randn([2, 5, d], { rng: new Rng(4) });
  const memory = randn([2, 7, d], { rng: new Rng(5) });
  const mask = combineMasks(causalMask(5, 0), keyPaddingMask(tensor([[0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])));
  const run = (record: boolean, cross: boolean): { y: number[]; grads: number[][] } => {
    const mha = new MultiHeadAttention(d, h, { dropout: 0.3, rng: new Rng(9) }); // same weights and dropout stream
    mha.recordWeights = record;
    const q = x.detach();
    q.requiresGrad = true;
    const y = cross ? mha.forward(q, memory, memory) : mha.forward(q, q, q, mask);
    y.mul(y).sum().backward();
    return { y: Array.from(y.toArray()), grads: [q.grad!, mha.inProjWeight.grad!, mha.inProjBias.grad!, mha.outProj.weight.grad!].map((g) => Array.from(g.toArray())) };
  };
  for (const cross of [false, true]) {
    const [fused, unfused] = [run(false, cross), run(true, cross)];
    const worst = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!) / (1 + Math.abs(b[i]!))), 0);
    assert.ok(worst(fused.y, unfused.y) < 1e-5, `${cross ? 'cross' : 'self'}: outputs differ by ${worst(fused.y, unfused.y)}`);
    fused.grads.forEach((g, i) => assert.ok(worst(g, unfused.grads[i]!) < 1e-4, `${cross ? 'cross' : 'self'}: gradient ${i} differs by ${worst(g, unfused.grads[i]!)}`));
  }
});

test('packedAttention names bad projections: overlapping heads, heads past the row, a non-contiguous projection', () => {
  const qkv = randn([2, 4, 12], { rng: new Rng(1) });
  const heads = { heads: 2 };
  assert.throws(() => packedAttention({ t: qkv, col: 0 }, { t: qkv, col: 2 }, { t: qkv, col: 8 }, 2, 2, heads), /overlap/);
  assert.throws(() => packedAttention({ t: qkv, col: 0 }, { t: qkv, col: 4 }, { t: qkv, col: 10 }, 2, 2, heads), /do not fit its width 12/);
  assert.throws(() => packedAttention({ t: qkv.transpose(1, 2), col: 0 }, { t: qkv, col: 4 }, { t: qkv, col: 8 }, 2, 2, heads), /contiguous/);
});
