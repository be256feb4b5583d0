// Deterministic memory: a training loop inside `tidy` reuses pooled buffers every step, so RSS and the pool
// stay flat over 10,000 steps; buffers return to the pool through dispose (and only through it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Rng, clearStoragePool, crossEntropy, noGrad, pooledStorageBytes, randn, tensor, tidy, type Tensor,
} from '../src/tensor/index.js';
import { forEachBackend } from './helpers/backends.js';

// V8 grows its young generation over the first thousand or so steps (RSS +30 MB with no leak), so the
// baseline is taken after a 2,000-step warm-up, and both measurements follow a full garbage collection.
const WARMUP = 2_000;
const STEPS = 10_000;
const RSS_GROWTH_LIMIT = 30 * 2 ** 20;
const HEAP_GROWTH_LIMIT = 2 * 2 ** 20;

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Memory use after a full garbage collection. */
function settledMemory(): NodeJS.MemoryUsage {
  collectGarbage();
  return process.memoryUsage();
}

/** A 2-layer MLP on a fixed batch, trained with plain SGD; the parameters live outside every scope. */
function makeMlp(rng: Rng) {
  const params = {
    w1: randn([8, 16], { std: 0.3, rng }).requireGrad(), b1: randn([16], { std: 0.1, rng }).requireGrad(),
    w2: randn([16, 4], { std: 0.3, rng }).requireGrad(), b2: randn([4], { std: 0.1, rng }).requireGrad(),
  };
  const x = randn([6, 8], { rng });
  const y = tensor([0, 1, 2, 3, 1, 0], [6], 'int32');
  /** One forward/backward/update step; returns the loss and pushes some intermediates onto `seen`. */
  const step = (lr: number, seen: Tensor[]): number => {
    const hidden = x.matmul(params.w1).add(params.b1).relu();
    const logits = hidden.matmul(params.w2).add(params.b2);
    const loss = crossEntropy(logits, y);
    loss.backward();
    noGrad(() => {
      for (const p of Object.values(params)) {
        const next = p.sub(p.grad!.mul(lr));
        p.assign(next.toArray());
        p.zeroGrad();
      }
    });
    seen.push(hidden, logits, loss);
    return loss.item();
  };
  return { params, step };
}

forEachBackend('tensor memory', () => {
  test(`a tidy training loop of ${STEPS} steps keeps RSS, the JS heap and the pool flat`, () => {
    const mlp = makeMlp(new Rng(1));
    let first = NaN;
    let last = NaN;
    const seen: Tensor[] = [];
    let baseline = process.memoryUsage();
    let poolAfterWarmup = 0;
    for (let i = 0; i < WARMUP + STEPS; i++) {
      if (i === WARMUP) {
        baseline = settledMemory();
        poolAfterWarmup = pooledStorageBytes();
      }
      const loss = tidy(() => mlp.step(0.1, i === 0 ? seen : []));
      if (i === 0) first = loss;
      last = loss;
      if (i > WARMUP) assert.equal(pooledStorageBytes(), poolAfterWarmup, `pool changed at step ${i}`);
    }
    const end = settledMemory();
    const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;
    assert.ok(end.rss - baseline.rss < RSS_GROWTH_LIMIT, `RSS grew by ${mb(end.rss - baseline.rss)} over ${STEPS} steps`);
    assert.ok(end.heapUsed - baseline.heapUsed < HEAP_GROWTH_LIMIT, `JS heap grew by ${mb(end.heapUsed - baseline.heapUsed)} over ${STEPS} steps`);
    assert.ok(poolAfterWarmup > 0 && poolAfterWarmup < 64 * 1024, `pool holds ${poolAfterWarmup} bytes`);
    assert.ok(seen.length === 3 && seen.every((t) => t.isDisposed), 'tensors created inside tidy are disposed');
    assert.ok(Object.values(mlp.params).every((p) => !p.isDisposed && p.grad === null), 'parameters survive, grads are cleared');
    assert.ok(last < first * 0.5, `the loop trains: loss ${first} -> ${last}`);
    for (const p of Object.values(mlp.params)) p.dispose();
  });

  test('buffers return to the pool through dispose only', () => {
    clearStoragePool();
    const bytes = 4 * (3 * 5 + 7);
    let a: Tensor | null = randn([3, 5]);
    let b: Tensor | null = a.exp().sum(1).add(tensor([1, 2, 3, 4, 5, 6, 7]).sum());
    assert.equal(pooledStorageBytes(), 0);
    a = null; b = null; // dropped without dispose: the garbage collector's business, not the pool's
    assert.equal(pooledStorageBytes(), 0);

    const x = randn([3, 5]);
    const view = x.transpose();
    x.dispose();
    assert.equal(pooledStorageBytes(), 0, 'a live view keeps the storage out of the pool');
    view.dispose();
    assert.equal(pooledStorageBytes(), 4 * 15);

    const y = tensor(new Float32Array(7));
    y.dispose();
    y.dispose();
    assert.equal(pooledStorageBytes(), bytes, 'double dispose returns the buffer once');

    const reused = randn([5, 3]);
    assert.equal(pooledStorageBytes(), 4 * 7, 'an allocation of the same size takes the pooled buffer');
    reused.dispose();

    clearStoragePool();
    let exempt: Tensor | undefined;
    const result = tidy(() => {
      const t = randn([4, 4]);
      const u = t.mul(2).add(1);
      exempt = u.exp().keep();
      return u.sum(0);
    });
    assert.equal(result.isDisposed, false, 'the result of tidy survives');
    assert.equal(exempt?.isDisposed, false, 'a kept tensor survives');
    assert.equal(pooledStorageBytes(), 4 * (3 * 16 + 2), 'tidy disposed t, t * 2, u and the two scalar constants');
    result.dispose();
    exempt?.dispose();
  });

  test('backward frees each intermediate gradient once consumed, as PyTorch does', () => {
    const block = 64 * 64 * 4;
    clearStoragePool();
    const x = randn([64, 64]).requireGrad();
    tidy(() => {
      let y = x;
      for (let i = 0; i < 10; i++) y = y.mul(1.5).add(y); // each step's gradient reaches y twice: summed, then freed
      y.sum().backward();
    });
    // Everything the step allocated is back in the pool now. The forward pass made 20 blocks of 64 x 64; had
    // backward kept its ~30 gradients until the end of the scope, each would have needed a block of its own.
    const blocks = Math.floor(pooledStorageBytes() / block);
    assert.ok(blocks <= 24, `the step used ${blocks} blocks of 64 x 64`);
    const want = 2.5 ** 10;
    const grad = x.grad!.toArray();
    assert.ok(grad.every((g) => Math.abs(g - want) <= 1e-6 * want), `x.grad ${grad[0]}, want ${want}`);
    x.grad!.dispose();
    x.dispose();
    tidy(() => {
      const upstream = randn([3]);
      randn([3]).requireGrad().mul(2).backward(upstream);
      assert.equal(upstream.isDisposed, false, "the caller's gradient is left alone");
      const logits = randn([4, 5]).requireGrad();
      const ce = crossEntropy(logits, tensor(new Int32Array([0, 1, 2, 3]), [4], 'int32'));
      ce.backward();
      assert.throws(() => ce.backward(), /crossEntropy backward: its gradient \[4, 5\] was used by an earlier backward\(\)/);
    });
    clearStoragePool();
  });
});
