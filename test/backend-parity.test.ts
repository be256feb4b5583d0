// Every native kernel against its TypeScript twin (the oracle) on random inputs: sizes 1, 7, 33, 1000 and
// sizes large enough to take the multi-threaded paths, strided / broadcast / transposed operands, accumulation.
// Skips when the addon is unavailable, unless AIAYN_REQUIRE_NATIVE=1 says it must be there.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS } from '../src/backend/backend.js';
import type { AttentionBackwardArgs, HostKernels as Backend, DecoderStepArgs, GemmArgs, HeadPacked, Strided } from '../src/backend/host/kernels.js';
import { loadNativeAddon, loadNativeKernels } from '../src/backend/native/index.js';
import { tsKernels as ts } from '../src/backend/ts/index.js';
import { Rng } from '../src/tensor/random.js';
import { close, randomArrays, STRIDED_CASES } from './helpers/kernel-inputs.js';

let native: Backend | undefined;
let loadError = '';
try {
  native = loadNativeKernels();
} catch (err) {
  loadError = err instanceof Error ? err.message : String(err);
}

/** The native backend, or undefined after skipping `t` (failing instead when AIAYN_REQUIRE_NATIVE=1). */
function nat(t: TestContext): Backend | undefined {
  if (native !== undefined) return native;
  if (process.env['AIAYN_REQUIRE_NATIVE'] === '1') assert.fail(`AIAYN_REQUIRE_NATIVE=1 but the native backend did not load: ${loadError}`);
  t.skip(`native backend unavailable: ${loadError}`);
  return undefined;
}

const { rand, randn } = randomArrays(12345);

/** Contiguous row-major strides of a shape. */
function dense(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]!; }
  return s;
}


/**
 * Runs `body` once per vector variant of the exp-heavy loops this CPU supports (baseline, AVX2, AVX-512),
 * then restores the variant that was in use.
 */
function eachSimd(body: (variant: string) => void): void {
  const addon = loadNativeAddon();
  const initial = addon.simd();
  const seen = new Set<string>();
  try {
    for (const want of ['baseline', 'avx2', 'avx512']) {
      const got = addon.setSimd(want);
      if (!seen.has(got)) { seen.add(got); body(got); }
    }
  } finally {
    addon.setSimd(initial);
  }
}

const SIZES = [1, 7, 33, 1000, 40_000];
const UNARY = UNARY_OPS;
const BINARY = BINARY_OPS;

/** A strided case: shape plus two operands' layouts (buffer length derived from the reach). */

/** Random buffer big enough for an operand layout over `shape`. */
function buffer(shape: readonly number[], l: { offset: number; strides: number[] }, lo = -2, hi = 2, steps = 0): Strided {
  let reach = l.offset;
  shape.forEach((n, d) => { reach += Math.max(0, (n - 1) * l.strides[d]!); });
  return { data: randn(reach + 1, lo, hi, steps), offset: l.offset, strides: l.strides };
}

const CASES = STRIDED_CASES;

test('threads() reports the configured thread count', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  const want = process.env['AIAYN_THREADS'];
  assert.ok(n.threads() >= 1);
  if (want !== undefined && want !== '') assert.equal(n.threads(), Number(want));
});

test('copy: strided, broadcast, transposed and offset operands', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  for (const c of CASES) {
    const src = buffer(c.shape, c.b);
    const dst = buffer(c.shape, c.a);
    if (c.a.strides.includes(0)) continue; // dst must not overlap itself
    const want = Float32Array.from(dst.data);
    ts.copy(src, { ...dst, data: want }, c.shape);
    n.copy(src, dst, c.shape);
    close(dst.data, want, `copy ${c.name}`);
  }
});

test('unary and unaryBackward: every op, every size, every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  eachSimd((variant) => { for (const op of UNARY) {
    for (const size of SIZES) {
      const x = op === 'log' || op === 'sqrt' ? randn(size, 0.01, 4) : randn(size, -4, 4);
      const want = new Float32Array(size);
      const got = new Float32Array(size);
      ts.unary(op, x, want);
      n.unary(op, x, got);
      close(got, want, `${op}(${size}) ${variant}`);
      const dy = randn(size);
      const dxWant = new Float32Array(size);
      const dxGot = new Float32Array(size);
      ts.unaryBackward(op, x, want, dy, dxWant);
      n.unaryBackward(op, x, want, dy, dxGot);
      close(dxGot, dxWant, `${op}'(${size}) ${variant}`);
    }
  } });
});

test('binary: every op over strided and broadcast operands', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  for (const op of BINARY) {
    for (const c of CASES) {
      const positive = op === 'pow';
      const a = buffer(c.shape, c.a, positive ? 0.1 : -2, 2, positive ? 0 : 8);
      const b = buffer(c.shape, c.b, -2, 2, positive ? 0 : 8);
      if (op === 'maximum' || op === 'minimum') { a.data[0] = NaN; b.data[b.data.length - 1] = NaN; }
      const size = c.shape.reduce((p, d) => p * d, 1);
      const want = new Float32Array(size);
      const got = new Float32Array(size);
      ts.binary(op, a, b, c.shape, want);
      n.binary(op, a, b, c.shape, got);
      close(got, want, `${op} ${c.name}`);
    }
  }
});

test('where: strided condition and branches', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  for (const c of CASES) {
    const cond = buffer(c.shape, c.b, 0, 2, 2);
    const a = buffer(c.shape, c.a);
    const b = buffer(c.shape, { offset: 0, strides: dense(c.shape) });
    const size = c.shape.reduce((p, d) => p * d, 1);
    const want = new Float32Array(size);
    const got = new Float32Array(size);
    ts.where(cond, a, b, c.shape, want);
    n.where(cond, a, b, c.shape, got);
    close(got, want, `where ${c.name}`);
  }
});

test('reduce (sum, max, sumSquares) and argmax over [outer, n, inner], every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  // [1, 300_000, 1]: one long row, which the native sums split over the threads in pieces
  const dims: Array<[number, number, number]> = [[1, 1, 1], [7, 33, 1], [3, 1000, 7], [33, 7, 1000], [1, 40_000, 1], [1, 300_000, 1], [2, 1, 33], [1000, 33, 1]];
  eachSimd((variant) => { for (const [outer, len, inner] of dims) {
    const x = randn(outer * len * inner, -2, 2, 16);
    if (x.length > 3 && len !== 300_000) x[3] = NaN;
    if (outer === 1 && inner === 1) { // the oracle's sum of squares against the plain definition
      const want = new Float32Array(1);
      ts.reduce('sumSquares', x, 1, len, 1, want);
      assert.equal(want[0], Math.fround(x.reduce((s, v) => s + Math.fround(v * v), 0)), `ts sumSquares of ${len}`);
    }
    for (const op of REDUCE_OPS) {
      const want = new Float32Array(outer * inner);
      const got = new Float32Array(outer * inner);
      ts.reduce(op, x, outer, len, inner, want);
      n.reduce(op, x, outer, len, inner, got);
      close(got, want, `${variant} ${op} [${outer},${len},${inner}]`);
    }
    const want = new Int32Array(outer * inner);
    const got = new Int32Array(outer * inner);
    ts.argmax(x, outer, len, inner, want);
    n.argmax(x, outer, len, inner, got);
    assert.deepEqual(got, want, `argmax [${outer},${len},${inner}]`);
  } });
});

test('gemm: transposes, padded leading dims, offsets, batch strides, alpha and beta, every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  // Batches of small products take the packed kernel (attention: 6 x 32 x 32 x 64 writes straight into out, 5 x 24
  // x 24 x 32 pads columns to 16), the tiniest without transA plain loops, the rest dnnl_sgemm.
  const shapes: Array<[number, number, number, number]> = [
    [1, 1, 1, 1], [1, 7, 33, 1], [1, 33, 7, 1000], [3, 7, 33, 33], [2, 128, 1000, 64], [4, 33, 1, 7], [1, 1, 1000, 33],
    [16, 10, 12, 8], [2, 5, 6, 0], [6, 32, 32, 64], [5, 24, 24, 32], [3, 19, 37, 5],
  ];
  eachSimd((variant) => { for (const [batch, m, nn, k] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const [alpha, beta, pad, shareB] of [[1, 0, 0, false], [0.5, 1.5, 3, true]] as const) {
          const lda = (transA ? m : k) + pad;
          const ldb = (transB ? k : nn) + pad;
          const aRows = transA ? k : m;
          const bRows = transB ? nn : k;
          const strideA = aRows * lda + pad;
          const strideB = shareB ? 0 : bRows * ldb;
          const aOffset = pad;
          const bOffset = 2 * pad;
          const a = randn(aOffset + batch * strideA + lda);
          const b = randn(bOffset + batch * Math.max(strideB, bRows * ldb) + ldb);
          const init = beta === 0 ? new Float32Array(batch * m * nn).fill(NaN) : randn(batch * m * nn);
          const args: Omit<GemmArgs, 'out'> = { batch, m, n: nn, k, transA, transB, a, aOffset, lda, strideA, b, bOffset, ldb, strideB, alpha, beta };
          const want = Float32Array.from(init);
          const got = Float32Array.from(init);
          ts.gemm({ ...args, out: want });
          n.gemm({ ...args, out: got });
          close(got, want, `${variant} gemm b${batch} ${m}x${nn}x${k} tA=${transA} tB=${transB} alpha=${alpha} beta=${beta}`);
        }
      }
    }
  } });
});

test('gemm with a bias row and the few-rows x W^T kernel: block tails, threads, every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  // m <= 32 with transB takes the dot-product kernel (4 x 4 / 4 x 2 blocks, k in vectors of 4 / 8 / 16 plus a
  // tail); the larger shapes cross its threading threshold; 9 to 16 rows with at least 64 columns a thread take
  // AVX-512's broadcast kernel (16 x 1024 x 256; 9 x 150 x 300: a column tail and a second, partial depth chunk;
  // 16 x 256 x 1024 without padding: W rows 4 KB apart, back on the dot blocks); m = 33 and 300 and transA take dnnl_sgemm. Without
  // transB, products of up to 2^14 multiply-adds take the plain loops (batch 2 x 4 x 33 x 64, 1 x 2 x 37 x 17).
  // 1030 x 9 x 40 (k >= 2n, 1,024 rows or more) copies the transposed weight for dnnl_sgemm's plain kernel.
  const shapes: Array<[number, number, number, number]> = [
    [1, 1, 1, 1], [1, 1, 8000, 256], [1, 2, 37, 17], [1, 3, 5, 1000], [1, 5, 300, 257], [1, 16, 1024, 256], [1, 9, 150, 300], [1, 16, 256, 1024],
    [2, 4, 33, 64], [1, 17, 40, 31], [1, 32, 256, 64], [1, 33, 40, 31], [1, 300, 70, 45], [1, 6, 9, 0], [1, 1030, 9, 40],
  ];
  eachSimd((variant) => {
    for (const [batch, m, nn, k] of shapes) {
      for (const [transA, transB] of [[false, true], [true, true], [false, false]] as const) {
        for (const [withBias, beta, pad] of [[true, 0, 0], [true, 0, 5], [false, 0.5, 3]] as const) {
          const lda = (transA ? m : k) + pad;
          const ldb = (transB ? k : nn) + pad;
          const strideA = (transA ? k : m) * lda;
          const strideB = (transB ? nn : k) * ldb;
          const a = randn(pad + batch * strideA + lda);
          const b = randn(pad + batch * strideB + ldb);
          const bias = withBias ? randn(pad + nn) : null;
          const init = beta === 0 ? new Float32Array(batch * m * nn).fill(NaN) : randn(batch * m * nn);
          const args: Omit<GemmArgs, 'out'> = { batch, m, n: nn, k, transA, transB, a, aOffset: pad, lda, strideA,
            b, bOffset: pad, ldb, strideB, alpha: 1.25, beta, bias, biasOffset: pad };
          const want = Float32Array.from(init);
          const got = Float32Array.from(init);
          ts.gemm({ ...args, out: want });
          n.gemm({ ...args, out: got });
          close(got, want, `gemm ${variant} b${batch} ${m}x${nn}x${k} tA=${transA} tB=${transB} bias=${withBias} beta=${beta} pad=${pad}`);
        }
      }
    }
  });
  const x = new Float32Array(16);
  const common = { batch: 1, m: 2, n: 2, k: 2, transA: false, transB: true, a: x, aOffset: 0, lda: 2, strideA: 0,
    b: x, bOffset: 0, ldb: 2, strideB: 0, out: x, alpha: 1 };
  for (const be of [ts, n]) {
    assert.throws(() => be.gemm({ ...common, beta: 1, bias: x }), /bias needs beta = 0/);
    assert.throws(() => be.gemm({ ...common, beta: 0, bias: new Float32Array(3), biasOffset: 2 }), /bias/);
  }
});

test('gemm of one row times a transposed weight: every alignment of the weight, bias, alpha and beta, every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  // One row with k and ldb multiples of 16 takes the AVX-512 kernel that reads W from the start of each cache line
  // (lanes outside the row masked): weight offsets 0..15 floats cover every place a row can start in its line.
  eachSimd((variant) => {
    for (const [nn, k] of [[16, 16], [40, 48], [200, 256]] as const) {
      for (let offset = 0; offset < 16; offset++) {
        for (const [withBias, beta] of [[true, 0], [false, 0.5]] as const) {
          const a = randn(k);
          const b = randn(offset + nn * k);
          const init = beta === 0 ? new Float32Array(nn).fill(NaN) : randn(nn);
          const args: Omit<GemmArgs, 'out'> = { batch: 1, m: 1, n: nn, k, transA: false, transB: true, a, aOffset: 0, lda: k, strideA: 0,
            b, bOffset: offset, ldb: k, strideB: 0, alpha: 1.25, beta, bias: withBias ? randn(nn) : null, biasOffset: 0 };
          const want = Float32Array.from(init);
          const got = Float32Array.from(init);
          ts.gemm({ ...args, out: want });
          n.gemm({ ...args, out: got });
          close(got, want, `gemm ${variant} 1x${nn}x${k} weight offset ${offset} bias=${withBias} beta=${beta}`);
        }
      }
    }
  });
});

test('gemm: a tall transposed-A product computed transposed equals dnnl_sgemm on it, into a padded output', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  const [m, nn, k, ldc] = [16400, 16, 1024, 19]; // m >= 16 n and 2^28 multiply-adds: the rerouted path
  const a = randn(k * m);
  const b = randn(k * nn);
  const want = new Float32Array(m * nn);
  loadNativeAddon().directSgemm({ transA: true, transB: false, m, n: nn, k, alpha: 0.5, a, lda: m, b, ldb: nn, beta: 0, c: want, ldc: nn });
  const got = new Float32Array(m * ldc).fill(NaN);
  n.gemm({ batch: 1, m, n: nn, k, transA: true, transB: false, a, aOffset: 0, lda: m, strideA: 0, b, bOffset: 0, ldb: nn, strideB: 0,
    out: got, alpha: 0.5, beta: 0, ldc });
  const rows = new Float32Array(m * nn);
  for (let i = 0; i < m; i++) rows.set(got.subarray(i * ldc, i * ldc + nn), i * nn);
  close(rows, want, 'tall A^T B');
  for (let i = 0; i < m; i++) assert.ok(got.subarray(i * ldc + nn, (i + 1) * ldc).every(Number.isNaN), `row ${i}: padding written`);
});

test('gemm over a two-level batch (outer and inner strides), on every path', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  // [outer, inner, m, n, k]: small batched (one GEMM per thread), few rows x W^T, large (threaded dnnl_sgemm).
  const shapes: Array<[number, number, number, number, number]> = [[2, 3, 7, 5, 9], [3, 4, 16, 33, 64], [2, 2, 300, 70, 45]];
  for (const [outer, inner, m, nn, k] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const lda = (transA ? m : k) + 1;
        const ldb = (transB ? k : nn) + 2;
        const sizeA = (transA ? k : m) * lda;
        const sizeB = (transB ? nn : k) * ldb;
        // Inner stride larger than the outer one, as for heads (inner) split from positions (outer).
        const strideA = outer * sizeA;
        const strideB = outer * sizeB;
        const a = randn(3 + inner * strideA + lda);
        const b = randn(4 + inner * strideB + ldb);
        const args: Omit<GemmArgs, 'out'> = { batch: outer * inner, m, n: nn, k, transA, transB, a, aOffset: 3, lda, strideA,
          b, bOffset: 4, ldb, strideB, alpha: 1, beta: 0, batchInner: inner, strideAOuter: sizeA, strideBOuter: sizeB };
        const want = new Float32Array(outer * inner * m * nn).fill(NaN);
        const got = new Float32Array(outer * inner * m * nn).fill(NaN);
        ts.gemm({ ...args, out: want });
        n.gemm({ ...args, out: got });
        close(got, want, `gemm ${outer}x${inner} ${m}x${nn}x${k} tA=${transA} tB=${transB}`);
      }
    }
  }
  const x = new Float32Array(8);
  const bad = { batch: 3, m: 1, n: 1, k: 1, transA: false, transB: false, a: x, aOffset: 0, lda: 1, strideA: 1,
    b: x, bOffset: 0, ldb: 1, strideB: 1, out: x, alpha: 1, beta: 0, batchInner: 2, strideAOuter: 1, strideBOuter: 1 };
  for (const be of [ts, n]) assert.throws(() => be.gemm(bad), /batchInner must divide batch/);
});

test('gemm writing a strided output layout (ldc, strideC, strideCOuter) on every path, with a bias', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  // [outer, inner, m, n, k, transB]: out stored as [outer, m, inner, n] (heads merged back into [B, T, h, dV]),
  // through the packed kernel, the plain loops, smallGemmNT (one matrix) and dnnl_sgemm; untouched slots stay NaN.
  const shapes: Array<[number, number, number, number, number, boolean]> = [
    [2, 3, 24, 32, 16, false], [3, 2, 1, 16, 8, true], [1, 1, 5, 40, 33, true], [2, 2, 300, 70, 45, false],
  ];
  for (const [outer, inner, m, nn, k, transB] of shapes) {
    for (const withBias of [false, true]) {
      const batch = outer * inner;
      const a = randn(batch * m * k);
      const b = randn(batch * nn * k);
      const bias = withBias ? randn(nn) : null;
      const size = outer * m * inner * nn + 3;
      const args: Omit<GemmArgs, 'out'> = { batch, m, n: nn, k, transA: false, transB, a, aOffset: 0, lda: k, strideA: m * k,
        b, bOffset: 0, ldb: transB ? k : nn, strideB: nn * k, alpha: 1, beta: 0, bias, batchInner: inner,
        strideAOuter: inner * m * k, strideBOuter: inner * nn * k, ldc: inner * nn, strideC: nn, strideCOuter: m * inner * nn };
      const want = new Float32Array(size).fill(NaN);
      const got = new Float32Array(size).fill(NaN);
      ts.gemm({ ...args, out: want });
      n.gemm({ ...args, out: got });
      const what = `gemm out layout ${outer}x${inner} ${m}x${nn}x${k} tB=${transB} bias=${withBias}`;
      close(got.subarray(0, size - 3), want.subarray(0, size - 3), what);
      assert.ok(want.subarray(size - 3).every(Number.isNaN) && got.subarray(size - 3).every(Number.isNaN), `${what}: wrote past the end`);
      // Against the dense layout, permuted: the layout changes where results go, not what they are.
      const dense = new Float32Array(batch * m * nn);
      ts.gemm({ ...args, ldc: undefined, strideC: undefined, strideCOuter: undefined, out: dense });
      for (let o = 0; o < outer; o++) {
        for (let h = 0; h < inner; h++) {
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < nn; j++) {
              assert.equal(want[((o * m + i) * inner + h) * nn + j], dense[((o * inner + h) * m + i) * nn + j], `${what} [${o},${h},${i},${j}]`);
            }
          }
        }
      }
    }
  }
  const x = new Float32Array(16);
  const small = { batch: 2, m: 2, n: 2, k: 2, transA: false, transB: false, a: x, aOffset: 0, lda: 2, strideA: 4,
    b: x, bOffset: 0, ldb: 2, strideB: 4, alpha: 1, beta: 0, out: new Float32Array(8), ldc: 5, strideC: 2, strideCOuter: 8 };
  assert.throws(() => n.gemm(small), /'out' reaches outside its buffer/);
});

test('softmax and log-softmax with scale and strided broadcast masks, every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  const causal = (len: number): Float32Array => {
    const m = new Float32Array(len * len);
    for (let i = 0; i < len; i++) for (let j = i + 1; j < len; j++) m[i * len + j] = -Infinity;
    return m;
  };
  const padding = randn(2 * 33, 0, 1, 4).map((v) => (v < 0.25 ? -Infinity : 0));
  const cases: Array<{ shape: number[]; mask: Strided | null }> = [
    { shape: [1], mask: null },
    { shape: [7], mask: null },
    { shape: [3, 1000], mask: null },
    { shape: [2, 3, 33, 33], mask: { data: causal(33), offset: 0, strides: [0, 0, 33, 1] } },
    { shape: [2, 3, 7, 33], mask: { data: padding, offset: 0, strides: [33, 0, 0, 1] } },
    { shape: [2, 4, 1], mask: { data: new Float32Array([-Infinity, 0]), offset: 0, strides: [0, 0, 0] } },
    { shape: [8, 64, 100], mask: { data: causal(100), offset: 0, strides: [0, 100, 1] } },
  ];
  eachSimd((variant) => { for (const { shape, mask } of cases) {
    for (const log of [false, true]) {
      const size = shape.reduce((p, d) => p * d, 1);
      const x = randn(size, -6, 6);
      const want = new Float32Array(size);
      const got = new Float32Array(size);
      ts.softmax(x, shape, 0.125, mask, log, want);
      n.softmax(x, shape, 0.125, mask, log, got);
      close(got, want, `softmax [${shape}] log=${log} ${variant}`);
      const cols = shape[shape.length - 1]!;
      const y = want.map((v) => (Number.isFinite(v) ? v : 0));
      const dy = randn(size);
      const dxWant = new Float32Array(size);
      const dxGot = new Float32Array(size);
      ts.softmaxBackward(y, dy, size / cols, cols, 0.125, log, dxWant);
      n.softmaxBackward(y, dy, size / cols, cols, 0.125, log, dxGot);
      close(dxGot, dxWant, `softmaxBackward [${shape}] log=${log} ${variant}`);
    }
  } });
});

test('layerNorm forward (of x or of x + y), and backward accumulating into dgamma and dbeta, every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  eachSimd((variant) => { for (const [rows, cols] of [[1, 1], [7, 33], [1000, 7], [64, 1000], [3, 1000]] as const) {
    const x = randn(rows * cols, -3, 5);
    const gamma = randn(cols);
    const beta = randn(cols);
    const outs = [ts, n].map((be) => {
      const out = new Float32Array(rows * cols);
      const mean = new Float32Array(rows);
      const rstd = new Float32Array(rows);
      be.layerNorm(x, gamma, beta, rows, cols, 1e-5, out, mean, rstd);
      return { out, mean, rstd };
    });
    close(outs[1]!.out, outs[0]!.out, `${variant} layerNorm ${rows}x${cols} out`);
    close(outs[1]!.mean, outs[0]!.mean, `layerNorm ${rows}x${cols} mean`);
    close(outs[1]!.rstd, outs[0]!.rstd, `${variant} layerNorm ${rows}x${cols} rstd`);
    const y = randn(rows * cols, -2, 2);
    const summed: Array<{ out: Float32Array; sum: Float32Array }> = [ts, n].map((be) => {
      const out = new Float32Array(rows * cols);
      const sum = new Float32Array(rows * cols).fill(NaN);
      be.layerNorm(x, gamma, beta, rows, cols, 1e-5, out, new Float32Array(rows), new Float32Array(rows), { y, sum });
      return { out, sum };
    });
    assert.deepEqual(summed[1]!.sum, summed[0]!.sum, `${variant} layerNorm of x + y: the float sums`);
    close(summed[1]!.out, summed[0]!.out, `${variant} layerNorm of x + y ${rows}x${cols} out`);
    const { mean, rstd } = outs[0]!;
    const dy = randn(rows * cols);
    const dgamma0 = randn(cols);
    const dbeta0 = randn(cols);
    const grads = [ts, n].map((be) => {
      const dx = new Float32Array(rows * cols);
      const dgamma = Float32Array.from(dgamma0);
      const dbeta = Float32Array.from(dbeta0);
      be.layerNormBackward(x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta);
      return { dx, dgamma, dbeta };
    });
    // dx is rstd (dy gamma - mean(dy gamma) - xhat mean(dy gamma xhat)): float terms of size rstd |dy gamma| cancel.
    const terms = Math.max(...Array.from(dy, (g, i) => rstd[Math.floor(i / cols)]! * Math.abs(g * gamma[i % cols]!)));
    close(grads[1]!.dx, grads[0]!.dx, `${variant} layerNormBackward ${rows}x${cols} dx`, 1e-5, terms);
    close(grads[1]!.dgamma, grads[0]!.dgamma, `layerNormBackward ${rows}x${cols} dgamma`);
    close(grads[1]!.dbeta, grads[0]!.dbeta, `${variant} layerNormBackward ${rows}x${cols} dbeta`);
  } });
});

test('label-smoothed cross entropy with and without its gradient, with ignored rows, every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  eachSimd((variant) => { for (const [rows, vocab] of [[1, 1], [7, 33], [33, 1000], [64, 1000]] as const) {
    for (const smoothing of [0, 0.1]) {
      const ignore = vocab > 1 ? 1 : -100;
      const logits = randn(rows * vocab, -8, 8);
      const targets = Int32Array.from({ length: rows }, () => Math.floor(rand() * vocab));
      if (rows > 1) targets[rows - 1] = ignore;
      const results = [ts, n].map((be) => {
        const losses = new Float32Array(rows);
        const lse = new Float32Array(rows);
        be.crossEntropy(logits, targets, rows, vocab, ignore, smoothing, losses, lse);
        // With the gradient: the same losses, and dlogits written over stale values (ignored rows zeroed).
        const withGrad = { losses: new Float32Array(rows), lse: new Float32Array(rows) };
        const dlogits = new Float32Array(rows * vocab).fill(NaN);
        be.crossEntropy(logits, targets, rows, vocab, ignore, smoothing, withGrad.losses, withGrad.lse, { scale: 1 / rows, dlogits });
        assert.deepEqual(withGrad.losses, losses);
        assert.deepEqual(withGrad.lse, lse);
        return { losses, lse, dlogits };
      });
      const what = `crossEntropy ${rows}x${vocab} eps=${smoothing} ${variant}`;
      close(results[1]!.losses, results[0]!.losses, `${what} losses`);
      close(results[1]!.lse, results[0]!.lse, `${what} logSumExp`);
      close(results[1]!.dlogits, results[0]!.dlogits, `${what} dlogits`, 1e-5, 1 / rows); // softmax and target terms of size 1 / rows cancel
      if (rows > 1) assert.ok(results[1]!.dlogits.subarray((rows - 1) * vocab).every((v) => v === 0), `${what} ignored row`);
    }
  } });
});

test('cross entropy of logits + bias, its gradient written over the logits in place, and its column sums, every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  eachSimd((variant) => { for (const [rows, vocab] of [[1, 5], [7, 33], [70, 1000]] as const) {
    const logits = randn(rows * vocab, -8, 8);
    const bias = randn(vocab, -3, 3);
    const targets = Int32Array.from({ length: rows }, () => 2 + Math.floor(rand() * (vocab - 2)));
    if (rows > 1) targets[1] = 0; // ignored
    const biased = logits.map((v, i) => v + bias[i % vocab]!);
    // Reference: the TypeScript kernel on logits with the bias already added, gradient into its own buffer.
    const ref = { losses: new Float32Array(rows), lse: new Float32Array(rows), dlogits: new Float32Array(rows * vocab) };
    ts.crossEntropy(biased, targets, rows, vocab, 0, 0.1, ref.losses, ref.lse, { scale: 0.5, dlogits: ref.dlogits });
    const refSums = new Float64Array(vocab);
    ref.dlogits.forEach((v, i) => { refSums[i % vocab]! += v; });
    for (const be of [ts, n]) {
      const inPlace = logits.slice();
      const losses = new Float32Array(rows);
      const lse = new Float32Array(rows);
      const columnSums = new Float32Array(vocab).fill(NaN);
      be.crossEntropy(inPlace, targets, rows, vocab, 0, 0.1, losses, lse, { scale: 0.5, dlogits: inPlace, columnSums }, bias);
      const what = `${be === ts ? 'ts' : 'native'} ${rows}x${vocab} ${variant}`;
      close(losses, ref.losses, `${what} losses`);
      close(lse, ref.lse, `${what} logSumExp`);
      close(inPlace, ref.dlogits, `${what} dlogits in place`);
      close(columnSums, refSums, `${what} column sums`, 1e-4);
    }
  } });
});

test('embedding gather and accumulating scatter with repeated ids', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  for (const [vocab, dim, count] of [[1, 1, 1], [7, 33, 7], [33, 7, 1000], [1000, 512, 100]] as const) {
    const weight = randn(vocab * dim);
    const ids = Int32Array.from({ length: count }, () => Math.floor(rand() * vocab));
    const want = new Float32Array(count * dim);
    const got = new Float32Array(count * dim);
    ts.embedding(weight, ids, dim, want);
    n.embedding(weight, ids, dim, got);
    close(got, want, `embedding ${vocab}x${dim} ids=${count}`);
    const dy = randn(count * dim);
    const dwWant = randn(vocab * dim);
    const dwGot = Float32Array.from(dwWant);
    ts.embeddingBackward(dy, ids, dim, dwWant);
    n.embeddingBackward(dy, ids, dim, dwGot);
    close(dwGot, dwWant, `embeddingBackward ${vocab}x${dim} ids=${count}`);
    // fresh: the old contents (NaN here) are zeroed first, on the kernel's threads when large
    const fresh = new Float32Array(vocab * dim);
    ts.embeddingBackward(dy, ids, dim, fresh);
    for (const be of [ts, n]) {
      const dw = new Float32Array(vocab * dim).fill(NaN);
      be.embeddingBackward(dy, ids, dim, dw, true);
      close(dw, fresh, `embeddingBackward fresh ${be === ts ? 'ts' : 'native'} ${vocab}x${dim} ids=${count}`);
    }
  }
});

test('dropout: identical masks and generator states, keep rate 1 - p, Rng advanced as by uniform(), every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  eachSimd((variant) => { for (const size of [...SIZES, 100_003]) { // large sizes split the draws over threads by jumping the state
    for (const p of [0.1, 0.5]) {
      const x = randn(size);
      const rng = new Rng(size);
      rng.normal();  // leaves a spare normal, which dropout must not disturb
      const start = rng.state();
      const words = Math.ceil(size / 32);
      const dy = randn(size);
      const results: Array<{ state: Uint32Array; out: Float32Array; bits: Int32Array; dx: Float32Array }> = [ts, n].map((be) => {
        const state = Uint32Array.from(start.slice(0, 4));
        const out = new Float32Array(size).fill(NaN);
        const bits = new Int32Array(words).fill(-1); // stale bits must be overwritten
        be.dropout(x, p, state, out, bits);
        const dx = new Float32Array(size).fill(NaN);
        be.dropoutBackward(dy, bits, p, dx);
        return { state, out, bits, dx };
      });
      const what = `${variant} dropout n=${size} p=${p}`;
      assert.deepEqual(results[1]!.bits, results[0]!.bits, `${what} keep bits`);
      assert.deepEqual(results[1]!.out, results[0]!.out, `${what} out`);
      assert.deepEqual(results[1]!.dx, results[0]!.dx, `${what} backward`);
      assert.deepEqual(results[1]!.state, results[0]!.state, `${what} state`);
      const keep = Math.fround(1 / (1 - p));
      let kept = 0;
      for (let i = 0; i < size; i++) {
        const k = rng.uniform() >= p;
        if (k) kept++;
        assert.equal((results[0]!.bits[i >> 5]! >>> (i & 31)) & 1, k ? 1 : 0, `${what} bit ${i} against Rng.uniform()`);
        assert.equal(results[0]!.out[i], Math.fround(x[i]! * (k ? keep : 0)), `${what} out[${i}]`);
        assert.equal(results[0]!.dx[i], Math.fround(dy[i]! * (k ? keep : 0)), `${what} dx[${i}]`);
      }
      if (size % 32 !== 0) assert.equal(results[0]!.bits[words - 1]! >>> (size % 32), 0, `${what} bits past the end are clear`);
      assert.deepEqual(Array.from(results[0]!.state), rng.state().slice(0, 4), `${what} state against Rng.uniform()`);
      assert.equal(rng.state()[4], start[4], `${what} spare normal kept`);
      if (size >= 1000) {
        const rate = kept / size;
        assert.ok(Math.abs(rate - (1 - p)) < 4 * Math.sqrt(p * (1 - p) / size), `${what} keep rate ${rate}`);
      }
      // dropout(ReLU(x)): the same draws, bits only where kept and x > 0, so that dropout's backward is its gradient.
      const relu: Array<{ state: Uint32Array; out: Float32Array; bits: Int32Array; dx: Float32Array }> = [ts, n].map((be) => {
        const state = Uint32Array.from(start.slice(0, 4));
        const out = new Float32Array(size).fill(NaN);
        const bits = new Int32Array(words).fill(-1);
        be.dropout(x, p, state, out, bits, true);
        const dx = new Float32Array(size).fill(NaN);
        be.dropoutBackward(dy, bits, p, dx);
        return { state, out, bits, dx };
      });
      assert.deepStrictEqual(relu[1], relu[0], `${what} relu: native against TypeScript`);
      assert.deepStrictEqual(relu[0]!.state, results[0]!.state, `${what} relu: the same state`);
      for (let i = 0; i < size; i++) {
        const k = ((results[0]!.bits[i >> 5]! >>> (i & 31)) & 1) === 1;
        assert.equal((relu[0]!.bits[i >> 5]! >>> (i & 31)) & 1, k && x[i]! > 0 ? 1 : 0, `${what} relu bit ${i}`);
        const reluX = x[i]! > 0 ? x[i]! : 0;
        assert.ok(Object.is(relu[0]!.out[i], Math.fround(reluX * (k ? keep : 0))), `${what} relu out[${i}]`);
        // relu's backward of dropout's: (dy * (k ? keep : 0)) * (x > 0 ? 1 : 0), signed zeros included
        assert.ok(Object.is(relu[0]!.dx[i], Math.fround(Math.fround(dy[i]! * (k ? keep : 0)) * (x[i]! > 0 ? 1 : 0))), `${what} relu dx[${i}]`);
      }
    }
  } });
});

test('adam and adamw steps with bias correction, every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  eachSimd((variant) => { for (const size of SIZES) {
    for (const [decoupled, wd, step] of [[false, 0, 1], [false, 0.01, 3], [true, 0.01, 10]] as const) {
      const param = randn(size);
      const grad = randn(size, -0.1, 0.1);
      const m = randn(size, -0.01, 0.01);
      const v = randn(size, 0, 0.001);
      const states = [ts, n].map((be) => {
        const s = { param: Float32Array.from(param), m: Float32Array.from(m), v: Float32Array.from(v) };
        be.adam(s.param, grad, s.m, s.v, 0.05, 0.9, 0.98, 1e-9, wd, step, decoupled);
        return s;
      });
      const what = `adam n=${size} decoupled=${decoupled} wd=${wd} step=${step} ${variant}`;
      close(states[1]!.param, states[0]!.param, `${what} param`);
      const delta = (p: Float32Array): Float32Array => p.map((v, i) => v - param[i]!);
      close(delta(states[1]!.param), delta(states[0]!.param), `${what} update`);
      close(states[1]!.m, states[0]!.m, `${what} m`);
      close(states[1]!.v, states[0]!.v, `${what} v`);
    }
  } });
});

test('attentionScores and attentionBackward over head-packed projections, masks and dropout bits, every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  // [batch, heads, tq, tk, dK, dV]: odd sizes, tq != tk, vector tails, tiny's and small's head shapes, and sizes
  // that split the native kernel's blocks of 32 query rows and keys.
  const shapes = [[1, 1, 1, 1, 1, 1], [2, 3, 7, 5, 3, 5], [3, 2, 17, 33, 20, 16], [4, 4, 24, 24, 32, 32], [2, 4, 32, 32, 64, 64],
    [3, 2, 45, 70, 16, 16], [2, 2, 70, 70, 64, 64]] as const;
  // Random hidden keys; and causal (the tq queries are the last of the tk positions) with batch entry b's last 3 b keys
  // padded, where the native kernel stops each row's products at its last visible key (rows that see no key give NaN).
  const masks = {
    random: (): number => (rand() < 0.2 ? -Infinity : 0),
    'causal, padded keys': (b: number, i: number, j: number, tq: number, tk: number): number => (j > tk - tq + i || j >= tk - 3 * b ? -Infinity : 0),
    // rows that see short and long prefixes in turn (limits that rise and fall within a block)
    staggered: (b: number, i: number, j: number, _tq: number, tk: number): number => (j > (i * 37 + b * 5) % tk ? -Infinity : 0),
  };
  for (const [[batch, heads, tq, tk, dK, dV], [maskName, hidden]] of shapes.flatMap((s) => Object.entries(masks).map((m) => [s, m] as const))) {
    // q (B, tq, width) with a spare first column; k and v side by side in one (B, tk, ·) projection.
    const qW = 1 + heads * dK;
    const kvW = heads * (dK + dV);
    const qp: HeadPacked = { data: randn(batch * tq * qW + 3), offset: 3, rowStride: qW, col: 1 };
    const kvData = randn(batch * tk * kvW);
    const kp: HeadPacked = { data: kvData, offset: 0, rowStride: kvW, col: 0 };
    const vp: HeadPacked = { data: kvData, offset: 0, rowStride: kvW, col: heads * dK };
    const shape = [batch, heads, tq, tk];
    const maskData = Float32Array.from({ length: batch * tq * tk }, (_, e) => hidden(Math.floor(e / (tq * tk)), Math.floor(e / tk) % tq, e % tk, tq, tk));
    const mask: Strided = { data: maskData, offset: 0, strides: [tq * tk, 0, tk, 1] }; // broadcast over heads
    const weights = batch * heads * tq * tk;
    const dims = { batch, heads, tq, tk, dK, dV, scale: 1 / Math.sqrt(dK) };
    const expected = new Float32Array(weights);
    ts.attentionScores({ ...dims, q: qp, k: kp, mask, probs: expected });
    const keepBits = Int32Array.from({ length: Math.ceil(weights / 32) }, () => (rand() * 2 ** 32) | 0);
    const dOut = randn(batch * tq * heads * dV);
    const grads = (be: Backend, dropped: boolean): Float32Array[] => {
      const dq = new Float32Array(batch * tq * qW + 3).fill(7); // columns no head covers are left alone
      const dkv = new Float32Array(batch * tk * kvW).fill(NaN);
      const args: AttentionBackwardArgs = { ...dims, q: qp, k: kp, v: vp, probs: expected, dropout: dropped ? { keepBits, p: 0.25 } : null,
        dOut, dq: { ...qp, data: dq }, dk: { ...kp, data: dkv }, dv: { ...vp, data: dkv } };
      be.attentionBackward(args);
      return [dq, dkv];
    };
    const what = `attention ${shape.join('x')} dK ${dK} dV ${dV} mask ${maskName}`;
    for (const dropped of [true, false]) {
      const want = grads(ts, dropped);
      eachSimd((variant) => {
        const probs = new Float32Array(weights);
        n.attentionScores({ ...dims, q: qp, k: kp, mask, probs });
        close(probs, expected, `${what} [${variant}] weights`);
        const got = grads(n, dropped);
        close(got[0]!, want[0]!, `${what} [${variant}] dropout ${dropped} dq`, 1e-4);
        close(got[1]!, want[1]!, `${what} [${variant}] dropout ${dropped} dk, dv`, 1e-4);
      });
    }
  }
});

/**
 * Random operands of a decoder step: `rows` rows, 2 layers, d 16, 4 heads, dFF 24, vocab 40, source length 5 (row 0
 * has 2 padded positions), `past` cached positions in buffers of capacity past + 3. Without `cross`, a decoder-only
 * step (GPT's blocks): no encoder-decoder attention, no source, no generator bias.
 */
function decoderStepArgs(rows: number, past: number, normFirst: boolean, activation: DecoderStepArgs['activation'], finalNorm: boolean,
  [d, h, dFF, vocab, srcLen] = [16, 4, 24, 40, 5], cross = true): DecoderStepArgs {
  if (!cross) srcLen = 0;
  const capacity = past + 3;
  const w = (n: number): Float32Array => randn(n, -0.5, 0.5);
  const gain = (): Float32Array => randn(d, 0.5, 1.5);
  const srcPad = new Float32Array(rows * srcLen);
  if (cross) srcPad.set([1, 1], srcLen - 2);
  const ifCross = (n: number): Float32Array | null => (cross ? w(n) : null);
  const layer = () => ({
    selfInW: w(3 * d * d), selfInB: w(3 * d), selfOutW: w(d * d), selfOutB: w(d), crossQW: ifCross(d * d), crossQB: ifCross(d),
    crossOutW: ifCross(d * d), crossOutB: ifCross(d), ff1W: w(dFF * d), ff1B: w(dFF), ff2W: w(d * dFF), ff2B: w(d),
    norm1G: gain(), norm1B: w(d), norm2G: cross ? gain() : null, norm2B: ifCross(d), norm3G: gain(), norm3B: w(d),
    selfK: w(rows * d * capacity), selfV: w(rows * d * capacity), crossK: ifCross(rows * d * srcLen), crossV: ifCross(rows * d * srcLen),
  });
  return {
    rows, dModel: d, heads: h, dFF, vocab, srcLen, past, capacity, normFirst, activation, eps: 1e-5, cross,
    ids: Int32Array.from({ length: rows }, (_, r) => (r * 7 + 3) % vocab), embedding: w(vocab * d), embedScale: cross ? Math.sqrt(d) : 1,
    positional: w(capacity * d), srcPad: cross ? srcPad : null, layers: [layer(), layer()], finalNorm: finalNorm ? { gamma: gain(), beta: w(d) } : null,
    generatorW: w(vocab * d), generatorB: ifCross(vocab), out: new Float32Array(rows * vocab),
  };
}

/** One token of a decoder step on host kernels k: bound, then run. */
function stepOnce(k: Backend, a: DecoderStepArgs): void {
  k.bindDecoderStep(a)(a);
}

/** A copy of decoder step operands whose caches and output are fresh buffers (what the step writes). */
function cloneStepArgs(a: DecoderStepArgs): DecoderStepArgs {
  return { ...a, out: new Float32Array(a.out.length), layers: a.layers.map((l) => ({ ...l, selfK: l.selfK.slice(), selfV: l.selfV.slice() })) };
}

test('decoderStep: log-probabilities and cache writes, post- and pre-LN, ReLU, GELU and tanh GELU, decoder-only too, 1 and 40 rows, every vector variant', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  for (const [rows, past, normFirst, activation, finalNorm, cross] of [[1, 0, false, 'relu', true, true], [3, 4, true, 'gelu', false, true],
    [40, 9, false, 'gelu', false, true], [40, 2, true, 'relu', true, true], [1, 6, true, 'geluTanh', true, false],
    [3, 0, false, 'relu', false, false], [40, 5, true, 'geluTanh', true, false]] as const) {
    const args = decoderStepArgs(rows, past, normFirst, activation, finalNorm, undefined, cross);
    const expected = cloneStepArgs(args);
    stepOnce(ts, expected);
    const what = `rows ${rows}, past ${past}, normFirst ${normFirst}, ${activation}${cross ? '' : ', decoder-only'}`;
    let total = 0;
    for (let r = 0; r < rows; r++) total += expected.out.subarray(r * args.vocab, (r + 1) * args.vocab).reduce((s, v) => s + Math.exp(v), 0);
    assert.ok(Math.abs(total / rows - 1) < 1e-5, `${what}: rows of exp(out) sum to 1`);
    eachSimd((variant) => {
      const got = cloneStepArgs(args);
      stepOnce(n, got);
      close(got.out, expected.out, `${what} [${variant}] out`, 2e-5);
      got.layers.forEach((l, i) => {
        close(l.selfK, expected.layers[i]!.selfK, `${what} [${variant}] layer ${i} keys`);
        close(l.selfV, expected.layers[i]!.selfV, `${what} [${variant}] layer ${i} values`);
      });
    });
  }
});

test('decoderStep at sizes that split each product, the attention heads and a long log-softmax over the threads', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  // With several threads and at most 32 rows the step runs as one parallel region: weights of 64..192 x 64 and
  // 64 x 128 in 16-column chunks (one row: the aligned single-row kernel), a vocabulary of 700 whose log-softmax
  // one sentence splits over the threads in 256-column parts, and 1 and 16 rows. On one thread every product is
  // dnnl_sgemm's, whose sums round differently: layer 1's keys then differ by up to ~1.3e-5 relative.
  for (const [rows, normFirst, activation, cross] of [[1, false, 'relu', true], [1, true, 'gelu', true], [16, false, 'gelu', true],
    [1, true, 'geluTanh', false], [16, true, 'geluTanh', false]] as const) {
    const args = decoderStepArgs(rows, 5, normFirst, activation, true, [64, 4, 128, 700, 7], cross);
    const expected = cloneStepArgs(args);
    stepOnce(ts, expected);
    const what = `rows ${rows}, normFirst ${normFirst}, ${activation}${cross ? '' : ', decoder-only'}`;
    eachSimd((variant) => {
      const got = cloneStepArgs(args);
      stepOnce(n, got);
      close(got.out, expected.out, `${what} [${variant}] out`, 2e-5);
      got.layers.forEach((l, i) => {
        close(l.selfK, expected.layers[i]!.selfK, `${what} [${variant}] layer ${i} keys`, 5e-5);
        close(l.selfV, expected.layers[i]!.selfV, `${what} [${variant}] layer ${i} values`, 5e-5);
      });
    });
  }
});

test('decoderStep refuses token ids outside the table, a full cache and short buffers, on both backends', (t) => {
  const n = nat(t);
  for (const backend of n === undefined ? [ts] : [ts, n]) {
    const bad = decoderStepArgs(2, 1, false, 'relu', true);
    assert.throws(() => stepOnce(backend, { ...bad, ids: new Int32Array([0, 40]) }), /token id 40 is outside the embedding table/);
    assert.throws(() => stepOnce(backend, { ...bad, past: bad.capacity }), /no room for position/);
    assert.throws(() => stepOnce(backend, { ...bad, positional: bad.positional.subarray(0, bad.dModel) }), /positional table has no row for position 1/);
    if (backend === n) {
      assert.throws(() => stepOnce(backend, { ...bad, generatorB: new Float32Array(3) }), /generator bias/);
      assert.throws(() => stepOnce(backend, { ...bad, layers: [bad.layers[0]!, { ...bad.layers[1]!, crossV: new Float32Array(8) }] }), /cross values/);
    }
  }
  if (n !== undefined) {
    const bad = decoderStepArgs(2, 1, false, 'relu', true);
    assert.throws(() => loadNativeAddon().decoderStepRun({ step: {}, past: 1, ids: bad.ids, out: bad.out }), /'step' must be a step from decoderStepBind/);
  }
});

test('a bound decoderStep run token after token equals a fresh binding per token, on both backends', (t) => {
  const n = nat(t);
  for (const k of n === undefined ? [ts] : [ts, n]) {
    const args = decoderStepArgs(3, 0, false, 'relu', true);
    const [bound, fresh] = [cloneStepArgs(args), cloneStepArgs(args)];
    const run = k.bindDecoderStep(bound);
    for (let past = 0; past < args.capacity; past++) {
      const ids = Int32Array.from({ length: args.rows }, (_, r) => (r * 5 + past * 3 + 1) % args.vocab);
      const [out, expected] = [new Float32Array(args.out.length), new Float32Array(args.out.length)];
      run({ past, ids, out });
      stepOnce(k, { ...fresh, past, ids, out: expected });
      assert.deepEqual(out, expected, `token ${past}`);
    }
    bound.layers.forEach((l, i) => assert.deepEqual(l.selfK, fresh.layers[i]!.selfK, `layer ${i} keys`));
  }
});

test('bad arguments raise JavaScript errors instead of crashing', (t) => {
  const n = nat(t);
  if (n === undefined) return;
  const x = new Float32Array(4);
  assert.throws(() => n.unary('exp', new Float64Array(4) as unknown as Float32Array, x), TypeError);
  assert.throws(() => n.unary('exp', x, new Float32Array(2)), RangeError);
  assert.throws(() => n.unary('bogus' as (typeof UNARY_OPS)[number], x, x), Error);
  assert.throws(() => n.copy({ data: x, offset: 0, strides: [4] }, { data: x, offset: 0, strides: [1] }, [2]), RangeError);
  assert.throws(() => n.binary('add', { data: x, offset: -1, strides: [1] }, { data: x, offset: 0, strides: [1] }, [2], x), RangeError);
  assert.throws(() => n.gemm({ batch: 1, m: 2, n: 2, k: 2, transA: false, transB: false, a: x, aOffset: 1, lda: 2, strideA: 0,
    b: x, bOffset: 0, ldb: 2, strideB: 0, out: x, alpha: 1, beta: 0 }), RangeError);
  assert.throws(() => n.binary('add', { data: x, offset: 0, strides: [2 ** 52] }, { data: x, offset: 0, strides: [1] }, [2 ** 20], x), RangeError);
  assert.throws(() => n.copy({ data: x, offset: 0, strides: [0, 0] }, { data: x, offset: 0, strides: [0, 0] }, [2 ** 40, 2 ** 40]), RangeError);
  assert.throws(() => n.gemm({ batch: 3, m: 1, n: 1, k: 1, transA: false, transB: false, a: x, aOffset: 0, lda: 1, strideA: 2 ** 52,
    b: x, bOffset: 0, ldb: 1, strideB: 0, out: x, alpha: 1, beta: 0 }), RangeError);
  assert.throws(() => n.embedding(x, new Int32Array([5]), 1, x), RangeError);
  assert.throws(() => n.crossEntropy(x, new Int32Array([9]), 1, 4, -100, 0, x, x), RangeError);
  assert.throws(() => n.dropout(x, 0.1, new Uint32Array(3), x, new Int32Array(1)), RangeError);
  assert.throws(() => n.dropout(x, 0.1, new Int32Array(4) as unknown as Uint32Array, x, new Int32Array(1)), TypeError);
  assert.throws(() => n.dropout(x, 0.1, new Uint32Array(4), x, new Int32Array(0)), RangeError);
  assert.throws(() => n.dropoutBackward(x, new Int32Array(1), 1, x), RangeError);
});
