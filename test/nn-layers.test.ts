import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dropout } from '../src/nn/dropout.js';
import { Embedding } from '../src/nn/embedding.js';
import { PositionwiseFeedForward } from '../src/nn/feedforward.js';
import { LayerNorm } from '../src/nn/layernorm.js';
import { Linear } from '../src/nn/linear.js';
import { ones, Rng, tensor } from '../src/tensor/index.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('Linear computes x W^T + b with weight [out, in] and PyTorch-like init bounds', () => {
  const lin = new Linear(3, 2, { rng: new Rng(1) });
  const bound = 1 / Math.sqrt(3);
  assert.ok(Array.from(lin.weight.toArray()).every((w) => Math.abs(w) <= bound));
  lin.weight.assign(Float32Array.of(1, 2, 3, 4, 5, 6));
  lin.bias!.assign(Float32Array.of(0.5, -1));
  close(lin.forward(tensor([[1, 0, -1], [2, 1, 0]])).toArray(), [-2 + 0.5, -2 - 1, 4 + 0.5, 13 - 1]);
});

test('Embedding looks up rows; LayerNorm normalises the last dim', () => {
  const emb = new Embedding(4, 2);
  emb.weight.assign(Float32Array.of(0, 1, 2, 3, 4, 5, 6, 7));
  close(emb.forward(tensor([[3, 1]], undefined, 'int32')).toArray(), [6, 7, 2, 3]);
  const ln = new LayerNorm(4);
  const y = ln.forward(tensor([[1, 2, 3, 4]])).toArray();
  const sd = Math.sqrt(1.25 + 1e-5);
  close(y, [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd]);
});

test('Dropout is reproducible from its seed, scales kept units by 1/(1-p), and is off in eval mode', () => {
  const a = new Dropout(0.25, new Rng(7)).forward(ones([1000])).toArray();
  const b = new Dropout(0.25, new Rng(7)).forward(ones([1000])).toArray();
  assert.deepEqual(a, b);
  const zeros = Array.from(a).filter((v) => v === 0).length;
  assert.ok(zeros > 180 && zeros < 320, `${zeros} of 1000 dropped`);
  assert.ok(Array.from(a).every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
  const d = new Dropout(0.25).eval();
  const x = ones([3]);
  assert.equal(d.forward(x), x);
});

test('PositionwiseFeedForward (eq. 2) matches max(0, x W1 + b1) W2 + b2, and GELU works', () => {
  const ff = new PositionwiseFeedForward(2, 3, 'relu', 0.1, new Rng(0)).eval();
  ff.linear1.weight.assign(Float32Array.of(1, 0, 0, 1, 1, -1));
  ff.linear1.bias!.assign(Float32Array.of(0, 0, -1));
  ff.linear2.weight.assign(Float32Array.of(1, 1, 1, 0, 1, 0));
  ff.linear2.bias!.assign(Float32Array.of(0, 1));
  // x = (2, 1): hidden = (2, 1, 0) -> relu (2, 1, 0) -> (3, 2)
  close(ff.forward(tensor([[[2, 1]]])).toArray(), [3, 2]);
  assert.deepEqual(new PositionwiseFeedForward(4, 8, 'gelu', 0, new Rng(0)).forward(ones([2, 3, 4])).shape, [2, 3, 4]);
});
