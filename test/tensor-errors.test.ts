// Bad input fails loudly: every error names the op and the shapes involved, so a user can find the line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  concat, crossEntropy, embedding, layerNorm, matmul, ones, softmax, tensor, tidy, zeros, type Tensor,
} from '../src/tensor/index.js';
import { forEachBackend } from './helpers/backends.js';

/** Asserts fn throws an Error whose message matches every pattern. */
function throwsWith(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Error, 'not an Error');
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

const ids = (values: number[], shape: number[]): Tensor => tensor(values, shape, 'int32');

forEachBackend('tensor errors', () => {
  test('shape mismatch in add names the op and both shapes', () => tidy(() => {
    throwsWith(() => zeros([2, 3]).add(zeros([4])), /^add: /, /\[2, 3\] and \[4\]/, /broadcast/);
    throwsWith(() => zeros([2, 3]).mul(zeros([3, 2])), /^mul: /, /\[2, 3\] and \[3, 2\]/);
  }));

  test('shape mismatch in matmul names the op and both shapes', () => tidy(() => {
    throwsWith(() => matmul(zeros([2, 3]), zeros([4, 5])), /^matmul: /, /inner/, /\[2, 3\] @ \[4, 5\]/);
    throwsWith(() => matmul(zeros([2, 3, 4]), zeros([3, 4, 5])), /^matmul: /, /\[2\] and \[3\]/);
    throwsWith(() => matmul(zeros([4]), zeros([4, 5])), /^matmul: /, /\[4\] and \[4, 5\]/);
  }));

  test('other shape errors name their op', () => tidy(() => {
    throwsWith(() => zeros([2, 3]).reshape([4, 2]), /^reshape: /, /\[2, 3\]/, /\[4, 2\]/);
    throwsWith(() => concat([zeros([2, 3]), zeros([3, 3])], 1), /^concat: /, /\[2, 3\], \[3, 3\]/);
    throwsWith(() => softmax(zeros([2, 3]), -1, { mask: zeros([2, 2]) }), /^softmax: /, /\[2, 3\] and \[2, 2\]/);
    throwsWith(() => layerNorm(zeros([2, 3]), ones([4]), zeros([4])), /^layerNorm: /, /\[4\]/, /\[2, 3\]/);
    throwsWith(() => crossEntropy(zeros([2, 5]), ids([0, 1, 2], [3])), /^crossEntropy: /, /\[2, 5\]/, /\[3\]/);
    throwsWith(() => zeros([2, 3]).slice(1, 1, 5), /^slice: /, /\[2, 3\]/);
  }));

  test('wrong dtype: float ids to embedding, int32 into arithmetic', () => tidy(() => {
    throwsWith(() => embedding(zeros([8, 4]), tensor([1, 2])), /^embedding: /, /int32/, /float32/, /\[2\]/);
    throwsWith(() => ids([1, 2, 3], [3]).add(1), /^add: /, /int32/, /\[3\]/);
    throwsWith(() => zeros([3]).mul(ids([1, 2, 3], [3])), /^mul: /, /int32/, /\[3\]/);
    throwsWith(() => ids([1, 2], [2]).exp(), /^exp: /, /int32/, /\[2\]/);
    throwsWith(() => crossEntropy(zeros([2, 5]), tensor([0, 1])), /^crossEntropy: /, /int32/, /\[2\]/);
  }));

  test('out-of-range indices: embedding ids and crossEntropy targets', () => tidy(() => {
    throwsWith(() => embedding(zeros([8, 4]), ids([1, 9], [2])), /^embedding: /, /id 9 at position 1/, /\[0, 8\)/, /\[8, 4\]/);
    throwsWith(() => embedding(zeros([8, 4]), ids([-1], [1])), /^embedding: /, /id -1/);
    throwsWith(() => crossEntropy(zeros([2, 5]), ids([0, 5], [2])), /^crossEntropy: /, /target 5 at position 1/, /\[0, 5\)/);
    throwsWith(() => crossEntropy(zeros([2, 5]), ids([-3, 0], [2])), /^crossEntropy: /, /target -3/);
  }));

  test('backward on a non-scalar needs a gradient of the same shape', () => tidy(() => {
    const y = ones([2, 3]).requireGrad().mul(2);
    throwsWith(() => y.backward(), /^backward: /, /\[2, 3\]/, /not a scalar/);
    throwsWith(() => y.backward(ones([3, 2])), /^backward: /, /\[3, 2\]/, /\[2, 3\]/);
  }));

  test('use after dispose names the op and the shape', async () => {
    const x = ones([2, 3]);
    tidy(() => {
      const w = ones([3, 4]);
      x.dispose();
      throwsWith(() => x.add(1), /^add: /, /\[2, 3\]/, /disposed/);
      throwsWith(() => x.exp(), /^exp: /, /\[2, 3\]/, /disposed/);
      throwsWith(() => x.sum(), /^sum: /, /\[2, 3\]/, /disposed/);
      throwsWith(() => x.matmul(w), /^matmul: /, /\[2, 3\]/, /disposed/);
      throwsWith(() => w.matmul(x.transpose()), /disposed/);
      throwsWith(() => x.reshape([3, 2]), /^reshape: /, /\[2, 3\]/, /disposed/);
      throwsWith(() => x.toArray(), /^toArray: /, /\[2, 3\]/, /disposed/);
      throwsWith(() => embedding(x, ids([0], [1])), /^embedding: /, /\[2, 3\]/, /disposed/);
      throwsWith(() => x.dense(), /^kernel: /, /\[2, 3\]/, /disposed/);
      x.dispose(); // idempotent
    });
    await assert.rejects(x.data(), /^Error: data: tensor of shape \[2, 3\] was disposed/);
  });

  test('backward through tensors that tidy already disposed fails instead of reading recycled buffers', () => {
    const w = ones([2, 5]).requireGrad();
    const targets = ids([0, 3], [2]);
    const losses: Array<[string, Tensor]> = [
      ['crossEntropy', tidy(() => crossEntropy(w.mul(2), targets))],
      ['layerNorm', tidy(() => layerNorm(w.mul(2), ones([5]), zeros([5])).sum())],
      ['exp', tidy(() => w.mul(2).exp().sum())],
    ];
    for (const [op, loss] of losses) throwsWith(() => loss.backward(), new RegExp(op), /\[2, 5\]/, /disposed/);
    throwsWith(() => tidy(() => embedding(w, ids([1, 1], [2]))).sum().backward(), /embedding/, /\[2\]/, /disposed/);
  });
});
