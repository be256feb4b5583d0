// Tensor behaviour beyond single-op values: views share storage, copies happen only when needed, matmul
// on transposed views, argmax ties, join/split round trips, seeded dropout, and autograd controls
// (noGrad, accumulation, detach, backward with a gradient). Runs once per available backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Rng, argmax, concat, dropout, reluDropout, isGradEnabled, noGrad, split, stack, tensor, tidy, type Tensor,
} from '../src/tensor/index.js';
import { forEachBackend } from './helpers/backends.js';
import { assertClose, sample, toTensor } from './helpers/gradcheck.js';
import * as R from './helpers/reference.js';

/** A float32 tensor [2, 3, 4] holding 0..23. */
function iota(): Tensor {
  return tensor(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
}

forEachBackend('tensor ops', () => {
  test('views share storage and see writes to it', () => tidy(() => {
    const x = iota();
    const views: Array<[string, Tensor]> = [
      ['reshape', x.reshape([6, 4])], ['transpose', x.transpose(0, 2)], ['permute', x.permute([1, 2, 0])],
      ['slice', x.slice(1, 1, 3)], ['expand', x.slice(0, 0, 1).expand([5, 3, 4])], ['unsqueeze', x.unsqueeze(1)],
      ['squeeze', x.slice(1, 0, 1).squeeze(1)], ['split', split(x, [1, 3], 2)[1]!],
    ];
    for (const [name, v] of views) assert.equal(v.storage, x.storage, `${name} copied its input`);
    x.assign(Float32Array.from(x.toArray(), (v, i) => (i === 5 ? 100 : v))); // x[0, 1, 1]
    assert.equal((x.transpose(0, 2).toNested() as number[][][])[1]![1]![0], 100);
    assert.equal(x.slice(1, 1, 3).toArray()[1], 100);
  }));

  test('contiguous copies only when needed, and reshape copies only non-viewable layouts', () => tidy(() => {
    const x = iota();
    assert.equal(x.contiguous(), x);
    assert.equal(x.slice(0, 1, 2).contiguous().storage, x.storage, 'a leading-axis slice is already dense');
    const t = x.transpose(1, 2);
    assert.equal(t.isContiguous(), false);
    const c = t.contiguous();
    assert.notEqual(c.storage, x.storage);
    assert.equal(c.isContiguous(), true);
    assert.deepEqual(Array.from(c.toArray()), Array.from(R.transpose(R.arr([2, 3, 4], x.toArray()), 1, 2).data));
    assert.equal(t.reshape([2, 4, 3]).storage, x.storage, 'reshape to the same shape is a view');
    const narrow = x.slice(2, 0, 2);
    assert.equal(narrow.reshape([6, 2]).storage, x.storage, 'merging dims that are adjacent in memory is a view');
    assert.deepEqual(Array.from(narrow.reshape([6, 2]).toArray()), Array.from(R.slice(R.arr([2, 3, 4], x.toArray()), 2, 0, 2).data));
    const flat = t.reshape([-1]);
    assert.notEqual(flat.storage, x.storage, 'flattening a transpose needs a copy');
    assert.deepEqual(Array.from(flat.toArray()), Array.from(c.toArray()));
  }));

  test('matmul with a transposed view equals matmul with its contiguous copy and the float64 reference', () => tidy(() => {
    const rng = new Rng(3);
    const a = toTensor(sample({ shape: [2, 5, 3] }, rng));
    const b = toTensor(sample({ shape: [2, 6, 5] }, rng));
    const w = toTensor(sample({ shape: [4, 6] }, rng));
    const pairs: Array<[string, Tensor, Tensor, Tensor, Tensor]> = [
      ['both transposed', a.transpose(), b.transpose(), a.transpose().contiguous(), b.transpose().contiguous()],
      ['weight transposed', b.transpose().slice(1, 0, 3), w.transpose(), b.transpose().slice(1, 0, 3).contiguous(), w.transpose().contiguous()],
    ];
    for (const [name, x, y, xc, yc] of pairs) {
      const viaView = x.matmul(y).toArray();
      assertClose(viaView, xc.matmul(yc).toArray(), 1e-6, name);
      assertClose(viaView, R.matmul(R.arr(x.shape, x.toArray()), R.arr(y.shape, y.toArray())).data, 1e-5, `${name} vs reference`);
    }
  }));

  test('argmax picks the first of tied maxima, on any axis and on views', () => tidy(() => {
    const x = tensor([[1, 3, 3, 0], [2, 2, 1, 2], [-1, -1, -1, -1]]);
    assert.deepEqual(argmax(x, 1).toNested(), [1, 0, 0]);
    assert.deepEqual(x.argmax(0, true).toNested(), [[1, 0, 0, 1]]);
    assert.deepEqual(x.transpose().argmax(1).toNested(), [1, 0, 0, 1]);
    assert.equal(x.argmax(1).dtype, 'int32');
  }));

  test('max shares the gradient equally among tied maxima', () => tidy(() => {
    const x = tensor([[1, 3, 3, 0], [2, 5, 1, 2]]).requireGrad();
    x.max(1).backward(tensor([1, 2]));
    assert.deepEqual(x.grad!.toNested(), [[0, 0.5, 0.5, 0], [0, 2, 0, 0]]);
    x.zeroGrad();
  }));

  test('concat, split and stack round trip (float32 and int32)', () => tidy(() => {
    const rng = new Rng(5);
    const parts = [[2, 1, 4], [2, 3, 4], [2, 2, 4]].map((shape) => toTensor(sample({ shape }, rng)));
    const joined = concat([parts[0]!, parts[1]!.transpose(0, 1).contiguous().transpose(0, 1), parts[2]!], 1);
    assert.deepEqual([...joined.shape], [2, 6, 4]);
    split(joined, [1, 3, 2], 1).forEach((piece, i) => assert.deepEqual(Array.from(piece.toArray()), Array.from(parts[i]!.toArray())));
    const stacked = stack([parts[1]!, parts[1]!.mul(2)], -1);
    assert.deepEqual([...stacked.shape], [2, 3, 4, 2]);
    assert.deepEqual(Array.from(stacked.slice(-1, 1, 2).squeeze(-1).toArray()), Array.from(parts[1]!.mul(2).toArray()));
    const ids = concat([tensor([1, 2], [1, 2], 'int32'), tensor([3, 4, 5, 6], [2, 2], 'int32').transpose()], 0);
    assert.equal(ids.dtype, 'int32');
    assert.deepEqual(ids.toNested(), [[1, 2], [3, 5], [4, 6]]);
  }));

  test('seeded dropout is reproducible', () => tidy(() => {
    const x = tensor(new Float32Array(200).fill(1), [10, 20]);
    const a = dropout(x, 0.5, true, new Rng(11)).toArray();
    const b = dropout(x, 0.5, true, new Rng(11)).toArray();
    const c = dropout(x, 0.5, true, new Rng(12)).toArray();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(a.every((v) => v === 0 || v === 2), 'kept values are scaled by 1 / (1 - p)');
    assert.equal(dropout(x, 0.5, false), x, 'identity when not training');
  }));

  test('reluDropout is dropout(relu(x)) with the same draws, in value and gradient, signed zeros included', () => tidy(() => {
    const rng = new Rng(3);
    const values = Float32Array.from({ length: 30 * 17 }, (_, i) => (i % 7 === 0 ? 0 : rng.normal()));
    const w = tensor(Float32Array.from({ length: 17 * 30 }, () => rng.normal()), [17, 30]);
    const fused = tensor(values, [30, 17]).requireGrad();
    const plain = tensor(values, [30, 17]).requireGrad();
    const y1 = reluDropout(fused.transpose(), 0.3, true, new Rng(5)); // a strided input, (17, 30)
    const y2 = dropout(plain.transpose().relu(), 0.3, true, new Rng(5));
    y1.mul(w).sum().backward();
    y2.mul(w).sum().backward();
    const [a, b] = [y1.toArray(), y2.toArray()];
    const [ga, gb] = [fused.grad!.toArray(), plain.grad!.toArray()];
    for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `out[${i}]: ${a[i]} against ${b[i]}`);
    for (let i = 0; i < ga.length; i++) assert.ok(Object.is(ga[i], gb[i]), `grad[${i}]: ${ga[i]} against ${gb[i]}`);
    assert.ok(a.some((v) => v === 0) && a.some((v) => v > 0), 'some values dropped or negative, some kept');
    assert.deepEqual(Array.from(reluDropout(fused, 0.3, false).toArray()), Array.from(fused.relu().toArray()), 'relu when not training');
  }));

  test('noGrad records nothing and restores grad mode, even on throw', () => tidy(() => {
    const x = tensor([1, 2, 3]).requireGrad();
    const y = noGrad(() => { assert.equal(isGradEnabled(), false); return x.mul(2).exp().sum(); });
    assert.equal(y.requiresGrad, false);
    assert.equal(y.node, null);
    assert.equal(isGradEnabled(), true);
    assert.throws(() => noGrad(() => { throw new Error('boom'); }), /boom/);
    assert.equal(isGradEnabled(), true);
    assert.throws(() => y.backward(), /backward: tensor does not require grad/);
    assert.equal(x.mul(2).node?.op, 'mul', 'recording resumes after noGrad');
  }));

  test('gradients accumulate across backward calls until zeroGrad', () => tidy(() => {
    const x = tensor([1, -2, 3]).requireGrad();
    x.mul(x).sum().backward();
    assert.deepEqual(Array.from(x.grad!.toArray()), [2, -4, 6]);
    x.mul(3).sum().backward();
    assert.deepEqual(Array.from(x.grad!.toArray()), [5, -1, 9]);
    x.zeroGrad();
    assert.equal(x.grad, null);
    x.mul(3).sum().backward();
    assert.deepEqual(Array.from(x.grad!.toArray()), [3, 3, 3]);
    x.zeroGrad();
  }));

  test('a tensor used twice in one graph gets the sum of both paths', () => tidy(() => {
    const x = tensor([[1, 2], [3, 4]]).requireGrad();
    x.matmul(x).sum().backward();
    // d sum(x @ x) / d x[a][b] = (row sum b of x) + (column sum a of x); row sums 3, 7; column sums 4, 6.
    assert.deepEqual(x.grad!.toNested(), [[3 + 4, 7 + 4], [3 + 6, 7 + 6]]);
    x.zeroGrad();
  }));

  test('detach shares storage and stops the gradient', () => tidy(() => {
    const x = tensor([1, 2, 3]).requireGrad();
    const d = x.detach();
    assert.equal(d.storage, x.storage);
    assert.equal(d.requiresGrad, false);
    assert.equal(d.node, null);
    x.mul(d).sum().backward();
    assert.deepEqual(Array.from(x.grad!.toArray()), [1, 2, 3], 'only the non-detached factor contributes');
    x.zeroGrad();
  }));

  test('backward with a given gradient on a non-scalar output', () => tidy(() => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]).requireGrad();
    const g = tensor([[1, 0, -1], [0.5, 2, 0]]);
    x.mul(3).add(1).backward(g);
    assert.deepEqual(x.grad!.toNested(), [[3, 0, -3], [1.5, 6, 0]]);
    x.zeroGrad();
    x.transpose().backward(g.transpose());
    assert.deepEqual(x.grad!.toNested(), g.toNested(), 'a transposed gradient for a transposed output');
    x.zeroGrad();
  }));
});
