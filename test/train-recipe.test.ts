import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableBackends, getBackend, setBackend } from '../src/backend/index.js';
import { tensor, type Tensor } from '../src/tensor/index.js';
import {
  Adam, AdamW, clipGradNorm, constantSchedule, labelSmoothedLoss, noamRate, noamSchedule, type Schedule,
} from '../src/train/index.js';

interface OptimCase { name: 'adam' | 'adamw' | 'adam-l2'; weightDecay: number; lrs: number[]; after: number[][][] }
interface OptimFixture {
  betas: [number, number]; eps: number; schedule: { dModel: number; warmup: number; factor: number };
  init: number[][]; grads: Array<Array<number[] | null>>; cases: OptimCase[];
}
interface ClipFixture { grads: number[][]; cases: Array<{ maxNorm: number; norm: number; clipped: number[][] }> }
interface LossFixture { shape: number[]; padId: number; eps: number; logits: number[]; targets: number[]; loss: number; grad: number[] }

const readFixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./fixtures/optim/${name}`, import.meta.url), 'utf8')) as T;
const optimFixture = readFixture<OptimFixture>('optimizers.json');

/**
 * |actual - expected| <= rel * |expected| + abs elementwise. The absolute floor matters only where an update
 * cancels most of a parameter (0.046 - 0.048 = -0.002): there both sides round the same inputs to float32
 * (ulp 6e-8 near 1) in a different order.
 */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string, abs = 1e-12): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= rel * Math.abs(e) + abs, `${what}[${i}]: got ${a}, expected ${e}`);
  }
}

/** Runs fn once per available backend, restoring the current one afterwards. */
async function onEveryBackend(fn: (backend: string) => void | Promise<void>): Promise<void> {
  const before = getBackend().name;
  try {
    for (const name of availableBackends()) {
      setBackend(name);
      await fn(name);
    }
  } finally {
    setBackend(before);
  }
}

const freshParams = (values: number[][]): Tensor[] => values.map((v) => tensor(v, [v.length]).requireGrad());

/** Sets each parameter's grad to the fixture's gradient of step s (null where the fixture has none). */
function setGrads(params: Tensor[], s: number): void {
  params.forEach((p, i) => {
    p.zeroGrad();
    const g = optimFixture.grads[s]![i]!;
    p.grad = g === null ? null : tensor(g, [g.length]);
  });
}

/** The optimizer a fixture case describes; the Adam case runs on the §5.3 schedule itself. */
function makeOptimizer(c: OptimCase, params: Tensor[]): Adam {
  const { betas, eps, schedule } = optimFixture;
  const lr: Schedule = c.name === 'adam' ? noamSchedule(schedule) : constantSchedule(c.lrs[0]!);
  return c.name === 'adamw'
    ? new AdamW(params, { lr, betas, eps, weightDecay: c.weightDecay })
    : new Adam(params, { lr, betas, eps, weightDecay: c.weightDecay });
}

test('Adam, AdamW and Adam with L2 match torch 1.13 after each of 5 steps to 1e-5 relative (+1e-7 absolute), on every backend', async () => {
  await onEveryBackend(async (backend) => {
    for (const c of optimFixture.cases) {
      const params = freshParams(optimFixture.init);
      const opt = makeOptimizer(c, params);
      c.after.forEach((expected, s) => {
        assert.ok(Math.abs(opt.lr - c.lrs[s]!) <= 1e-12 * c.lrs[s]!, `${c.name}: lr of step ${s + 1} is ${opt.lr}, torch used ${c.lrs[s]}`);
        setGrads(params, s);
        opt.step();
        params.forEach((p, i) => assertClose(p.toArray(), expected[i]!, 1e-5, `${backend} ${c.name} step ${s + 1} param ${i}`, 1e-7));
      });
      assert.equal(opt.stepCount, 5);
      const state = await opt.exportState();
      assert.deepEqual(state.params.map((p) => p?.step), [5, 4, 5], 'a parameter without grad does not advance its step');
    }
  });
});

test('the defaults are those of the paper (§5.3) and AdamW decays by 0.01', () => {
  const adam = new Adam([]);
  assert.deepEqual([adam.beta1, adam.beta2, adam.eps, adam.weightDecay, adam.lr], [0.9, 0.98, 1e-9, 0, 1e-3]);
  assert.equal(new AdamW([]).weightDecay, 0.01);
  assert.equal(new AdamW([], { weightDecay: 0 }).weightDecay, 0);
  assert.throws(() => new Adam([], { betas: [0.9, 1] }), /Adam: betas must be in \[0, 1\), got \[0.9, 1\]/);
  const p = tensor([1, 2], [2]);
  assert.throws(() => new AdamW([p, p]), /AdamW: parameter 1 appears more than once/);
});

test('parameters without grad are untouched; zeroGrad drops every grad', async () => {
  const [a, b] = freshParams([[1, 2, 3], [4, 5]]) as [Tensor, Tensor];
  const opt = new Adam([a, b], { lr: 0.1 });
  a.grad = tensor([1, 1, 1], [3]);
  opt.step();
  assert.deepEqual(Array.from(b.toArray()), [4, 5]);
  assert.deepEqual((await opt.exportState()).params[1], null);
  assert.ok(a.toArray()[0]! < 1);
  opt.zeroGrad();
  assert.equal(a.grad, null);
});

test('exported state resumes bit-exactly: 3 steps, export, import into a fresh optimizer, 2 steps == 5 steps', async () => {
  await onEveryBackend(async (backend) => {
    for (const c of optimFixture.cases) {
      const straight = freshParams(optimFixture.init);
      const straightOpt = makeOptimizer(c, straight);
      for (let s = 0; s < 5; s++) { setGrads(straight, s); straightOpt.step(); }

      const first = freshParams(optimFixture.init);
      const firstOpt = makeOptimizer(c, first);
      for (let s = 0; s < 3; s++) { setGrads(first, s); firstOpt.step(); }
      const saved = await firstOpt.exportState();
      const checkpoint = first.map((p) => p.toArray() as Float32Array);
      firstOpt.step(); // moving on must not change what was exported
      first.forEach((p) => p.dispose());

      const resumed = checkpoint.map((v) => tensor(v, [v.length]).requireGrad());
      const resumedOpt = makeOptimizer(c, resumed);
      resumedOpt.importState(saved);
      assert.equal(resumedOpt.stepCount, 3);
      for (let s = 3; s < 5; s++) { setGrads(resumed, s); resumedOpt.step(); }

      resumed.forEach((p, i) => assert.deepEqual(p.toArray(), straight[i]!.toArray(), `${backend} ${c.name} param ${i}`));
      assert.deepEqual(await resumedOpt.exportState(), await straightOpt.exportState(), `${backend} ${c.name} state`);
    }
  });
});

test('importState rejects state of another shape', () => {
  const opt = new Adam(freshParams([[1, 2]]));
  assert.throws(() => opt.importState({ steps: 1, params: [] }), /Adam.importState: state has 0 parameters, this optimizer has 1/);
  assert.throws(() => opt.importState({ steps: 1, params: [{ step: 1, m: new Float32Array(3), v: new Float32Array(3) }] }),
    /Adam.importState: parameter 0 has 2 elements but its state has m 3, v 3/);
});

test('the §5.3 schedule follows its formula and peaks at step = warmup', () => {
  const opts = { dModel: 512, warmup: 4000 };
  const peak = 512 ** -0.5 * 4000 ** -0.5;
  assert.ok(Math.abs(noamRate(4000, opts) - peak) <= 1e-15);
  assert.ok(Math.abs(noamRate(4000, { ...opts, factor: 2 }) - 2 * peak) <= 1e-15);
  for (const step of [1, 10, 999, 3999, 4001, 10000, 100000]) {
    const formula = 512 ** -0.5 * Math.min(step ** -0.5, step * 4000 ** -1.5);
    assert.ok(Math.abs(noamRate(step, opts) - formula) <= 1e-15 * formula, `step ${step}`);
  }
  assert.ok(Math.abs(noamRate(2000, opts) - peak / 2) <= 1e-15, 'linear warmup');
  assert.ok(Math.abs(noamRate(16000, opts) - peak / 2) <= 1e-15, 'inverse square root decay');
  const small = { dModel: 16, warmup: 7, factor: 1.5 };
  let best = 0;
  for (let step = 1; step <= 50; step++) if (noamRate(step, small) > noamRate(best, small)) best = step;
  assert.equal(best, 7);
  assert.ok(Math.abs(noamSchedule(small).rate(7) - 1.5 * 16 ** -0.5 * 7 ** -0.5) <= 1e-15);
  assert.equal(noamRate(0, opts), 0);
  assert.throws(() => noamSchedule({ dModel: 0, warmup: 1 }), /noamSchedule: dModel and warmup must be > 0/);
  assert.equal(constantSchedule(0.5).rate(123), 0.5);
});

test('clipGradNorm matches torch.nn.utils.clip_grad_norm_', async () => {
  const { grads, cases } = readFixture<ClipFixture>('clip.json');
  for (const c of cases) {
    const params = freshParams(grads.map((g) => g.map(() => 0)));
    params.forEach((p, i) => { p.grad = tensor(grads[i]!, [grads[i]!.length]); });
    const noGrad = tensor([1], [1]).requireGrad();
    const norm = await clipGradNorm([...params, noGrad], c.maxNorm);
    assertClose([norm], [c.norm], 1e-6, `norm (maxNorm ${c.maxNorm})`);
    params.forEach((p, i) => assertClose(p.grad!.toArray(), c.clipped[i]!, 1e-6, `maxNorm ${c.maxNorm} grad ${i}`));
  }
  assert.equal(await clipGradNorm([], 1), 0);
});

test('labelSmoothedLoss matches torch (eps 0.1) and ignores pad', () => {
  const f = readFixture<LossFixture>('loss.json');
  const logits = tensor(f.logits, f.shape).requireGrad();
  const targets = tensor(f.targets, f.shape.slice(0, -1), 'int32');
  const loss = labelSmoothedLoss(logits, targets, { padId: f.padId });
  assertClose([loss.item()], [f.loss], 1e-5, 'loss');
  loss.backward();
  assertClose(logits.grad!.toArray(), f.grad, 1e-5, 'grad');

  // Same value from the non-pad rows alone; pad rows get no gradient.
  const vocab = f.shape[2]!;
  const kept = f.targets.flatMap((t, row) => t === f.padId ? [] : [row]);
  const keptLogits = tensor(kept.flatMap((row) => f.logits.slice(row * vocab, (row + 1) * vocab)), [kept.length, vocab]);
  const keptTargets = tensor(kept.map((row) => f.targets[row]!), [kept.length], 'int32');
  assertClose([labelSmoothedLoss(keptLogits, keptTargets, { padId: -1 }).item()], [loss.item()], 1e-6, 'loss without pad rows');
  const grad = logits.grad!.toArray();
  f.targets.forEach((t, row) => {
    if (t === f.padId) assert.ok(grad.slice(row * vocab, (row + 1) * vocab).every((g) => g === 0), `pad row ${row} has gradient`);
  });
  const unsmoothed = labelSmoothedLoss(keptLogits, keptTargets, { eps: 0, padId: -1 }).item();
  assert.ok(Math.abs(unsmoothed - loss.item()) > 1e-3, 'eps changes the loss');
});
