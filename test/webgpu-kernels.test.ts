// Every WebGPU kernel against the TypeScript backend (the oracle) on random inputs: sizes 1, 7, 33, 1000 and
// larger, strided / broadcast / transposed operands, NaN and -inf, ties, masked rows, ignored targets,
// accumulation, dropout bit for bit. Each operand lives twice (a host array for ts, a device buffer for
// webgpu) and the whole device buffer is read back and compared, so writes outside the output are caught too.
// Skips when no WebGPU adapter is found, unless AIAYN_REQUIRE_WEBGPU=1 says it must be there.

import assert from 'node:assert/strict';
import { after, test, type TestContext } from 'node:test';
import { BINARY_OPS, UNARY_OPS, type Backend, type BufferHandle, type DType, type GemmArgs, type HostArray } from '../src/backend/backend.js';
import { tsBackend as ts } from '../src/backend/ts/index.js';
import { createWebGPUBackend, type WebGPUBackend } from '../src/backend/webgpu/index.js';
import { acquireDevice } from '../src/backend/webgpu/device.js';
import { forceGemmPath, gemmPath, type GemmPath } from '../src/backend/webgpu/kernels/gemm.js';
import { Runtime, defineKernel } from '../src/backend/webgpu/runtime.js';
import { rowTeams } from '../src/backend/webgpu/rows.js';
import { paramLayout } from '../src/backend/webgpu/params.js';
import { close, randomArrays, STRIDED_CASES, type Layout } from './helpers/kernel-inputs.js';

let gpu: WebGPUBackend | undefined;
/** The same adapter without subgroups: row kernels take the reference (shared-memory) path. */
let reference: WebGPUBackend | undefined;
let loadError = '';
try {
  gpu = await createWebGPUBackend();
  if (gpu.adapter.subgroupMaxSize !== null) reference = await createWebGPUBackend({ subgroups: false });
} catch (err) {
  loadError = err instanceof Error ? err.message : String(err);
}
after(() => { gpu?.dispose(); reference?.dispose(); });

/** The WebGPU backend, or undefined after skipping `t` (failing instead when AIAYN_REQUIRE_WEBGPU=1). */
function dev(t: TestContext): WebGPUBackend | undefined {
  if (gpu !== undefined) return gpu;
  if (process.env['AIAYN_REQUIRE_WEBGPU'] === '1') assert.fail(`AIAYN_REQUIRE_WEBGPU=1 but no WebGPU backend: ${loadError}`);
  t.skip(loadError);
  return undefined;
}

/** The backends to run row kernels on: both row paths (rows.ts) when the adapter has subgroups; [] after skipping. */
function rowDevs(t: TestContext): WebGPUBackend[] {
  const g = dev(t);
  return [g, reference].filter((b) => b !== undefined);
}

const { randn, randi } = randomArrays(2024);


/** An operand held by both backends: a host array (ts's handle is the array) and a device buffer with the same values. */
interface Twin { host: HostArray; dev: BufferHandle; dtype: DType }

/** A twin of `data` (copied to the device). */
function twin(g: WebGPUBackend, data: HostArray): Twin {
  const dtype: DType = data instanceof Float32Array ? 'float32' : 'int32';
  const dev = g.alloc(data.length, dtype, false);
  g.write({ buf: dev, offset: 0 }, data);
  return { host: data.slice(), dev, dtype };
}

/** The handle of `t` on backend `b`. */
function on(b: Backend, t: Twin): BufferHandle {
  return b === ts ? t.host : t.dev;
}

/** Runs `body` on ts and on the device. */
function both(g: WebGPUBackend, body: (b: Backend, h: (t: Twin) => BufferHandle) => void): void {
  for (const b of [ts, g]) body(b, (t) => on(b, t));
}

/**
 * Asserts the device copy of `t` ≈ its host copy element by element: equal (NaN matching NaN), or within `tol`
 * relative to max(|expected|, rms(expected), minScale): the floors cover values that cancel to near zero.
 */
async function closeOnDevice(g: WebGPUBackend, t: Twin, what: string, tol = 1e-5, minScale = 0): Promise<void> {
  const actual = await g.read({ buf: t.dev, offset: 0 }, t.host.length, t.dtype);
  close(actual, t.host, what, t.dtype === 'int32' ? 0 : tol, minScale);
}

/** Number of elements of a shape. */
function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Contiguous row-major strides of a shape. */
function dense(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]!; }
  return s;
}


/** Elements a buffer needs for a layout over `shape`. */
function reach(shape: readonly number[], l: Layout): number {
  let r = l.offset;
  shape.forEach((n, d) => { r += Math.max(0, (n - 1) * l.strides[d]!); });
  return r + 1;
}

/** Strided cases (the larger ones cost SwiftShader minutes). */
const CASES = STRIDED_CASES.filter((c) => size(c.shape) <= 10_000);

const SIZES = [1, 7, 33, 1000];
const UNARY = UNARY_OPS;
const BINARY = BINARY_OPS;

test('the adapter is named, a software adapter says so, and subgroups are used where the adapter has them', (t) => {
  const g = dev(t);
  if (g === undefined) return;
  assert.equal(g.name, 'webgpu');
  assert.equal(g.memory, 'device');
  assert.equal(g.readSync, null);
  assert.ok(g.adapter.description.length + g.adapter.vendor.length > 0, 'adapter unnamed');
  if (/swiftshader/i.test(g.adapter.description)) assert.equal(g.adapter.software, true);
  assert.equal(g.adapter.subgroupMaxSize !== null, g.adapter.features.includes('subgroups'));
  assert.equal(reference?.adapter.subgroupMaxSize ?? null, null);
});

test('copy: strided, broadcast, transposed and offset operands, float32 and int32', async (t) => {
  const g = dev(t);
  if (g === undefined) return;
  for (const c of CASES) {
    const src = twin(g, randn(reach(c.shape, c.b)));
    const dst = twin(g, randn(reach(c.shape, c.a)));
    both(g, (b, h) => b.copy({ buf: h(src), ...c.b }, { buf: h(dst), ...c.a }, c.shape, 'float32'));
    await closeOnDevice(g, dst, `copy ${c.name}`, 0);
    const isrc = twin(g, randi(reach(c.shape, c.b), 1 << 30));
    const idst = twin(g, randi(reach(c.shape, c.a), 7));
    both(g, (b, h) => b.copy({ buf: h(isrc), ...c.b }, { buf: h(idst), ...c.a }, c.shape, 'int32'));
    await closeOnDevice(g, idst, `int32 copy ${c.name}`, 0);
  }
});

test('fill: float32 and int32 from an offset', async (t) => {
  const g = dev(t);
  if (g === undefined) return;
  const f = twin(g, randn(1003));
  const i = twin(g, randi(1003, 5));
  both(g, (b, h) => { b.fill({ buf: h(f), offset: 2 }, 1000, -1.5, 'float32'); b.fill({ buf: h(i), offset: 1 }, 1000, -7, 'int32'); });
  await closeOnDevice(g, f, 'fill float32', 0);
  await closeOnDevice(g, i, 'fill int32', 0);
});

test('unary and unaryBackward: every op, every size, from offsets', async (t) => {
  const g = dev(t);
  if (g === undefined) return;
  for (const op of UNARY) {
    for (const n of SIZES) {
      const x = twin(g, op === 'log' || op === 'sqrt' ? randn(n + 1, 0.01, 4) : randn(n + 1, -4, 4));
      const y = twin(g, new Float32Array(n + 2));
      const dy = twin(g, randn(n));
      const dx = twin(g, new Float32Array(n));
      both(g, (b, h) => {
        b.unary(op, { buf: h(x), offset: 1 }, { buf: h(y), offset: 2 }, n);
        b.unaryBackward(op, { buf: h(x), offset: 1 }, { buf: h(y), offset: 2 }, { buf: h(dy), offset: 0 }, { buf: h(dx), offset: 0 }, n);
      });
      await closeOnDevice(g, y, `${op}(${n})`);
      await closeOnDevice(g, dx, `${op}'(${n})`);
    }
  }
  // JavaScript's edge values: log of 0 and negatives, sqrt of negatives, tanh and exp far out, NaN through relu
  const edge = Float32Array.of(0, -1, -0, 100, -100, 20, -20, NaN, Infinity, -Infinity);
  for (const op of UNARY) {
    const x = twin(g, edge);
    const y = twin(g, new Float32Array(edge.length));
    both(g, (b, h) => b.unary(op, { buf: h(x), offset: 0 }, { buf: h(y), offset: 0 }, edge.length));
    await closeOnDevice(g, y, `${op} at edge values`);
  }
});

test('binary: every op over strided and broadcast operands, NaN in maximum and minimum, in place', async (t) => {
  const g = dev(t);
  if (g === undefined) return;
  for (const op of BINARY) {
    for (const c of CASES) {
      const pow = op === 'pow';
      const a = twin(g, randn(reach(c.shape, c.a), pow ? -2 : -2, 2, pow ? 4 : 8));
      const bb = twin(g, randn(reach(c.shape, c.b), -2, 2, pow ? 4 : 8));
      if (op === 'maximum' || op === 'minimum') { a.host[0] = NaN; bb.host[bb.host.length - 1] = NaN; g.write({ buf: a.dev, offset: 0 }, a.host); g.write({ buf: bb.dev, offset: 0 }, bb.host); }
      const out = twin(g, new Float32Array(size(c.shape) + 1));
      both(g, (b, h) => b.binary(op, { buf: h(a), ...c.a }, { buf: h(bb), ...c.b }, c.shape, { buf: h(out), offset: 1 }));
      await closeOnDevice(g, out, `${op} ${c.name}`);
    }
  }
  const x = twin(g, randn(1000));
  const y = twin(g, randn(1000));
  both(g, (b, h) => b.binary('mul', { buf: h(x), offset: 0, strides: [1] }, { buf: h(y), offset: 0, strides: [1] }, [1000], { buf: h(x), offset: 0 }));
  await closeOnDevice(g, x, 'mul in place');
});

test('where: strided condition and branches', async (t) => {
  const g = dev(t);
  if (g === undefined) return;
  for (const c of CASES) {
    const cond = twin(g, randn(reach(c.shape, c.b), 0, 2, 2));
    const a = twin(g, randn(reach(c.shape, c.a)));
    const bb = twin(g, randn(size(c.shape)));
    const out = twin(g, new Float32Array(size(c.shape)));
    both(g, (b, h) => b.where({ buf: h(cond), ...c.b }, { buf: h(a), ...c.a }, { buf: h(bb), offset: 0, strides: dense(c.shape) }, c.shape, { buf: h(out), offset: 0 }));
    await closeOnDevice(g, out, `where ${c.name}`, 0);
  }
});

test('reduce (sum, max, sumSquares) and argmax over [outer, n, inner]: ties, NaN, -inf rows, long rows', async (t) => {
  for (const g of rowDevs(t)) {
    const dims: Array<[number, number, number]> = [[1, 1, 1], [7, 33, 1], [3, 1000, 7], [33, 7, 100], [1, 100_003, 1], [2, 1, 33], [1000, 33, 1]];
    for (const [outer, n, inner] of dims) {
      const data = randn(outer * n * inner + 2, -2, 2, 16);
      if (data.length > 5) { data[5] = NaN; data[4] = -Infinity; }
      const x = twin(g, data);
      const sum = twin(g, new Float32Array(outer * inner));
      const max = twin(g, new Float32Array(outer * inner));
      const squares = twin(g, new Float32Array(outer * inner));
      const arg = twin(g, new Int32Array(outer * inner));
      both(g, (b, h) => {
        b.reduce('sum', { buf: h(x), offset: 2 }, outer, n, inner, { buf: h(sum), offset: 0 });
        b.reduce('sumSquares', { buf: h(x), offset: 2 }, outer, n, inner, { buf: h(squares), offset: 0 });
        b.reduce('max', { buf: h(x), offset: 2 }, outer, n, inner, { buf: h(max), offset: 0 });
        b.argmax({ buf: h(x), offset: 2 }, outer, n, inner, { buf: h(arg), offset: 0 });
      });
      await closeOnDevice(g, sum, `sum [${outer},${n},${inner}]`, 1e-5, 2 * Math.sqrt(n));
      await closeOnDevice(g, squares, `sumSquares [${outer},${n},${inner}]`, 1e-5);
      await closeOnDevice(g, max, `max [${outer},${n},${inner}]`, 0);
      await closeOnDevice(g, arg, `argmax [${outer},${n},${inner}]`, 0);
    }
    // rows of NaN and -inf (index 0, as ts), ties (first wins), NaN before the maximum
    const rows = Float32Array.of(NaN, NaN, NaN, -Infinity, -Infinity, -Infinity, 1, 3, 3, NaN, 2, 2, -Infinity, NaN, -5);
    for (const [outer, n, inner] of [[5, 3, 1], [1, 3, 5]] as const) {
      const x = twin(g, rows);
      const arg = twin(g, new Int32Array(5));
      both(g, (b, h) => b.argmax({ buf: h(x), offset: 0 }, outer, n, inner, { buf: h(arg), offset: 0 }));
      await closeOnDevice(g, arg, `argmax special rows [${outer},${n},${inner}]`, 0);
    }
  }
});

/** Runs one gemm on both backends (out starting as `init`) and compares. */
async function gemmCase(g: WebGPUBackend, args: Omit<GemmArgs, 'a' | 'b' | 'out' | 'bias'> & { aLen: number; bLen: number; outLen: number; bias?: number },
  what: string, tol = 1e-4): Promise<void> {
  const a = twin(g, randn(args.aLen));
  const b = twin(g, randn(args.bLen));
  const out = twin(g, args.beta === 0 ? new Float32Array(args.outLen).fill(NaN) : randn(args.outLen));
  const bias = args.bias === undefined ? null : twin(g, randn(args.bias + args.n));
  both(g, (be, h) => be.gemm({ ...args, a: h(a), b: h(b), out: h(out), bias: bias === null ? null : { buf: h(bias), offset: args.bias! } }));
  await closeOnDevice(g, out, what, tol);
}

const GEMM_PATHS: readonly GemmPath[] = ['direct', 'tiled'];

/** Runs `body` with every gemm forced onto `path`, then lets gemm choose by size again. */
async function onGemmPath(path: GemmPath, body: () => Promise<void>): Promise<void> {
  forceGemmPath(path);
  try {
    await body();
  } finally {
    forceGemmPath(null);
  }
}

test('gemm takes the direct (barrier-free) path below 2^24 multiply-adds and the tiled one from there', () => {
  const shape = (batch: number, m: number, n: number, k: number) => gemmPath({ batch, m, n, k } as GemmArgs);
  assert.equal(shape(1, 480, 500, 32), 'direct');
  assert.equal(shape(48, 20, 16, 20), 'direct');
  assert.equal(shape(1, 256, 256, 255), 'direct');
  assert.equal(shape(1, 256, 256, 256), 'tiled');
  assert.equal(shape(64, 128, 128, 16), 'tiled');
});

for (const path of GEMM_PATHS) {
  test(`gemm (${path} path): transposes, edges, padded leading dims, offsets, batch strides, alpha and beta, bias`, async (t) => {
    const g = dev(t);
    if (g === undefined) return;
    // 130 x 257 x 67 crosses 64-tile edges; batch 8 of 129 x 130 x 9 takes (and crosses) the 128 x 128 tiles
    const shapes: Array<[number, number, number, number]> = [[1, 1, 1, 1], [1, 7, 33, 1], [1, 33, 7, 1000], [3, 7, 33, 33], [1, 130, 257, 67], [8, 129, 130, 9], [2, 5, 6, 0]];
    await onGemmPath(path, async () => {
      for (const [batch, m, n, k] of shapes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const [alpha, beta, pad, bias] of [[1, 0, 0, undefined], [0.5, 1.5, 3, undefined], [1.25, 0, 2, 3]] as const) {
              const lda = (transA ? m : k) + pad;
              const ldb = (transB ? k : n) + pad;
              const strideA = (transA ? k : m) * lda + pad;
              const strideB = (transB ? n : k) * ldb;
              await gemmCase(g, { batch, m, n, k, transA, transB, aOffset: pad, lda, strideA, bOffset: 2 * pad, ldb, strideB, alpha, beta,
                aLen: pad + batch * strideA + lda, bLen: 2 * pad + batch * strideB + ldb, outLen: batch * m * n, bias },
              `gemm ${path} b${batch} ${m}x${n}x${k} tA=${transA} tB=${transB} alpha=${alpha} beta=${beta} bias=${bias !== undefined}`);
            }
          }
        }
      }
    });
    const x = twin(g, new Float32Array(16));
    const common = { batch: 1, m: 2, n: 2, k: 2, transA: false, transB: true, a: x.dev, aOffset: 0, lda: 2, strideA: 0, b: x.dev, bOffset: 0, ldb: 2, strideB: 0, out: x.dev, alpha: 1 };
    assert.throws(() => g.gemm({ ...common, beta: 1, bias: { buf: x.dev, offset: 0 } }), /bias needs beta = 0/);
    assert.throws(() => g.gemm({ ...common, batch: 3, beta: 0, batchInner: 2 }), /batchInner must divide batch/);
  });

  test(`gemm (${path} path) over a two-level batch into a strided output layout (ldc, strideC, strideCOuter, outOffset)`, async (t) => {
    const g = dev(t);
    if (g === undefined) return;
    await onGemmPath(path, async () => {
      for (const [outer, inner, m, n, k, transA, transB] of [[2, 3, 7, 5, 9, false, true], [2, 2, 70, 130, 45, true, false]] as const) {
        const lda = (transA ? m : k) + 1;
        const ldb = (transB ? k : n) + 2;
        const sizeA = (transA ? k : m) * lda;
        const sizeB = (transB ? n : k) * ldb;
        await gemmCase(g, { batch: outer * inner, m, n, k, transA, transB, aOffset: 3, lda, strideA: outer * sizeA, bOffset: 4, ldb, strideB: outer * sizeB,
          alpha: 1, beta: 0, batchInner: inner, strideAOuter: sizeA, strideBOuter: sizeB, outOffset: 5, ldc: inner * n, strideC: n, strideCOuter: m * inner * n,
          aLen: 3 + inner * outer * sizeA + lda, bLen: 4 + inner * outer * sizeB + ldb, outLen: 5 + outer * m * inner * n + 3, bias: 1 },
        `gemm ${path} two-level ${outer}x${inner} ${m}x${n}x${k} tA=${transA} tB=${transB}`);
      }
    });
  });
}

test('softmax and log-softmax: scale, strided masks with -inf, fully masked rows, long rows; and their backward', async (t) => {
  for (const g of rowDevs(t)) {
    const causal = (tq: number) => Float32Array.from({ length: tq * tq }, (_, i) => (i % tq > Math.floor(i / tq) ? -Infinity : 0));
    const cases: Array<{ shape: number[]; mask: { data: Float32Array; offset: number; strides: number[] } | null }> = [
      { shape: [1, 1], mask: null }, { shape: [7, 33], mask: null }, { shape: [3, 1000], mask: null }, { shape: [2, 8003], mask: null },
      { shape: [2, 3, 33, 33], mask: { data: causal(33), offset: 0, strides: [0, 0, 33, 1] } },
      // padding mask per batch row, broadcast over heads and queries; batch 1's keys all masked: NaN rows as ts
      { shape: [2, 2, 5, 7], mask: { data: Float32Array.of(0, 0, 0, -1e9, -Infinity, -Infinity, 0, ...Array(7).fill(-Infinity)), offset: 0, strides: [7, 0, 0, 1] } },
    ];
    for (const c of cases) {
      for (const log of [false, true]) {
        const n = size(c.shape);
        const x = twin(g, randn(n + 1, -3, 3));
        const mask = c.mask === null ? null : twin(g, c.mask.data);
        const y = twin(g, new Float32Array(n));
        both(g, (b, h) => b.softmax({ x: { buf: h(x), offset: 1 }, shape: c.shape, scale: 0.7, log, out: { buf: h(y), offset: 0 },
          mask: mask === null ? null : { buf: h(mask), offset: c.mask!.offset, strides: c.mask!.strides } }));
        await closeOnDevice(g, y, `${log ? 'log-' : ''}softmax [${c.shape}]${mask === null ? '' : ' masked'}`);
        if (mask !== null) continue;
        const cols = c.shape[c.shape.length - 1]!;
        const dy = twin(g, randn(n));
        const dx = twin(g, new Float32Array(n));
        both(g, (b, h) => b.softmaxBackward({ y: { buf: h(y), offset: 0 }, dy: { buf: h(dy), offset: 0 }, rows: n / cols, cols, scale: 0.7, log, dx: { buf: h(dx), offset: 0 } }));
        await closeOnDevice(g, dx, `${log ? 'log-' : ''}softmax backward [${c.shape}]`, 1e-5, 1e-3);
      }
    }
  }
});

test('layerNorm and its backward: dgamma and dbeta accumulate, rows across chunks', async (t) => {
  for (const g of rowDevs(t)) {
    for (const [rows, cols] of [[1, 1], [7, 33], [200, 33], [3, 1000], [1, 8003]] as const) {
      const x = twin(g, randn(rows * cols + 2, -3, 5));
      const gamma = twin(g, randn(cols, 0.5, 1.5));
      const beta = twin(g, randn(cols));
      const out = twin(g, new Float32Array(rows * cols));
      const mean = twin(g, new Float32Array(rows));
      const rstd = twin(g, new Float32Array(rows));
      both(g, (b, h) => b.layerNorm({ x: { buf: h(x), offset: 2 }, gamma: { buf: h(gamma), offset: 0 }, beta: { buf: h(beta), offset: 0 }, rows, cols, eps: 1e-5,
        out: { buf: h(out), offset: 0 }, mean: { buf: h(mean), offset: 0 }, rstd: { buf: h(rstd), offset: 0 } }));
      await closeOnDevice(g, out, `layerNorm ${rows}x${cols}`, 1e-5, 1e-3);
      await closeOnDevice(g, mean, `layerNorm mean ${rows}x${cols}`, 1e-5, 1e-3);
      await closeOnDevice(g, rstd, `layerNorm rstd ${rows}x${cols}`, 1e-4);
      const dy = twin(g, randn(rows * cols));
      const dx = twin(g, new Float32Array(rows * cols));
      const dgb = twin(g, randn(2 * cols)); // dgamma and dbeta in one buffer: accumulated onto random values
      both(g, (b, h) => b.layerNormBackward({ x: { buf: h(x), offset: 2 }, gamma: { buf: h(gamma), offset: 0 }, mean: { buf: h(mean), offset: 0 },
        rstd: { buf: h(rstd), offset: 0 }, dy: { buf: h(dy), offset: 0 }, rows, cols, dx: { buf: h(dx), offset: 0 },
        dgamma: { buf: h(dgb), offset: 0 }, dbeta: { buf: h(dgb), offset: cols } }));
      await closeOnDevice(g, dx, `layerNorm dx ${rows}x${cols}`, 1e-4, 1e-2);
      await closeOnDevice(g, dgb, `layerNorm dgamma, dbeta ${rows}x${cols}`, 1e-5, Math.sqrt(rows));
    }
  }
});

test('fused addLayerNorm: the residual sum written and normalised', async (t) => {
  for (const g of rowDevs(t)) {
    for (const [rows, cols] of [[1, 1], [7, 33], [3, 1000]] as const) {
      const x = twin(g, randn(rows * cols + 1));
      const y = twin(g, randn(rows * cols));
      const gamma = twin(g, randn(cols, 0.5, 1.5));
      const beta = twin(g, randn(cols));
      const [out, sum] = [twin(g, new Float32Array(rows * cols)), twin(g, new Float32Array(rows * cols))];
      const [mean, rstd] = [twin(g, new Float32Array(rows)), twin(g, new Float32Array(rows))];
      both(g, (b, h) => {
        const args = { x: { buf: h(x), offset: 1 }, y: { buf: h(y), offset: 0 }, sum: { buf: h(sum), offset: 0 }, gamma: { buf: h(gamma), offset: 0 },
          beta: { buf: h(beta), offset: 0 }, rows, cols, eps: 1e-5, out: { buf: h(out), offset: 0 }, mean: { buf: h(mean), offset: 0 }, rstd: { buf: h(rstd), offset: 0 } };
        assert.equal(b.fused.addLayerNorm!.refuses(args), null);
        b.fused.addLayerNorm!.run(args);
      });
      await closeOnDevice(g, sum, `addLayerNorm sum ${rows}x${cols}`, 0);
      await closeOnDevice(g, out, `addLayerNorm out ${rows}x${cols}`, 1e-5, 1e-3);
      await closeOnDevice(g, mean, `addLayerNorm mean ${rows}x${cols}`, 1e-5, 1e-3);
      await closeOnDevice(g, rstd, `addLayerNorm rstd ${rows}x${cols}`, 1e-4);
    }
  }
});

test('fused linearCrossEntropy: generator and loss, with and without bias and gradients', async (t) => {
  for (const g of rowDevs(t)) {
    for (const [rows, d, vocab, withBias, grad] of [[7, 33, 100, true, true], [33, 16, 1000, false, true], [5, 8, 33, true, false], [1, 4, 7, true, true]] as const) {
      const tg = randi(rows, vocab);
      tg[0] = -1;
      const [x, weight, bias, targets] = [twin(g, randn(rows * d)), twin(g, randn(vocab * d + 2)), twin(g, randn(vocab)), twin(g, tg)];
      const [loss, dlogits, dbias] = [twin(g, new Float32Array(1)), twin(g, new Float32Array(rows * vocab)), twin(g, randn(vocab))];
      both(g, (b, h) => {
        const args = { x: { buf: h(x), offset: 0 }, weight: { buf: h(weight), offset: 2 }, bias: withBias ? { buf: h(bias), offset: 0 } : null,
          targets: { buf: h(targets), offset: 0 }, rows, d, vocab, ignoreIndex: -1, smoothing: 0.1, loss: { buf: h(loss), offset: 0 },
          dlogits: { buf: h(dlogits), offset: 0 }, grad, dbias: withBias ? { buf: h(dbias), offset: 0 } : null };
        assert.equal(b.fused.linearCrossEntropy!.refuses(args), null);
        b.fused.linearCrossEntropy!.run(args);
      });
      const what = `linearCrossEntropy ${rows}x${d}x${vocab} bias=${withBias} grad=${grad}`;
      await closeOnDevice(g, loss, what, 1e-5);
      if (grad) await closeOnDevice(g, dlogits, `${what} dlogits`, 1e-5, 1e-4);
      await closeOnDevice(g, dbias, `${what} dbias`, 1e-5, 1e-3);
    }
  }
});

test('crossEntropy: ignored rows, label smoothing, the gradient beside and in place of the logits, no row counted', async (t) => {
  for (const g of rowDevs(t)) {
    for (const [rows, vocab, smoothing, ignored] of [[1, 1, 0, 0], [7, 33, 0.1, 2], [33, 1000, 0, 5], [3, 8003, 0.1, 1], [4, 7, 0.1, 4]] as const) {
      const tg = randi(rows, vocab);
      for (let i = 0; i < ignored; i++) tg[(i * 3) % rows] = -100;
      const targets = twin(g, tg);
      for (const mode of ['none', 'beside', 'inPlace'] as const) {
        const logits = twin(g, randn(rows * vocab, -4, 4));
        const loss = twin(g, new Float32Array(2));
        const dl = mode === 'beside' ? twin(g, new Float32Array(rows * vocab)) : logits;
        both(g, (b, h) => b.crossEntropy({ logits: { buf: h(logits), offset: 0 }, targets: { buf: h(targets), offset: 0 }, rows, vocab, ignoreIndex: -100,
          smoothing, loss: { buf: h(loss), offset: 1 }, dlogits: mode === 'none' ? null : { buf: h(dl), offset: 0 } }));
        await closeOnDevice(g, loss, `crossEntropy ${rows}x${vocab} eps=${smoothing} ignored=${ignored} (${mode})`);
        if (mode !== 'none') await closeOnDevice(g, dl, `crossEntropy dlogits ${rows}x${vocab} (${mode})`, 1e-5, 1e-4);
      }
    }
  }
});

test('dropout draws exactly the bits of ts (keep bits, outputs, state), also in pieces and fused with ReLU', async (t) => {
  const g = dev(t);
  if (g === undefined) return;
  for (const n of [1, 31, 33, 1000, 100_003]) {
    for (const p of [0.1, 0.5]) {
      for (const relu of [false, true]) {
        const seed = Uint32Array.of(0x9e3779b9, 0x243f6a88, 0xb7e15162, n);
        const states = new Map<Backend, Uint32Array>();
        const x = twin(g, randn(n + 3, -1, 1));
        const out = twin(g, new Float32Array(n));
        const bits = twin(g, new Int32Array(Math.ceil(n / 32) + 1).fill(-1));
        // two calls: the second continues the stream where the first left it
        for (const part of [0, 1]) {
          both(g, (b, h) => {
            const state = states.get(b) ?? Uint32Array.from(seed);
            states.set(b, state);
            const args = { x: { buf: h(x), offset: 3 }, n, p, state, out: { buf: h(out), offset: 0 }, keepBits: { buf: h(bits), offset: 1 } };
            if (relu) b.fused.reluDropout!.run(args); else b.dropout(args);
          });
          await closeOnDevice(g, bits, `dropout keep bits n=${n} p=${p} relu=${relu} call ${part}`, 0);
          await closeOnDevice(g, out, `dropout out n=${n} p=${p} relu=${relu} call ${part}`, 0);
          assert.deepEqual(states.get(g), states.get(ts), `dropout state n=${n} p=${p} call ${part}`);
        }
        const dy = twin(g, randn(n));
        const dx = twin(g, new Float32Array(n));
        both(g, (b, h) => b.dropoutBackward({ dy: { buf: h(dy), offset: 0 }, keepBits: { buf: h(bits), offset: 1 }, n, p, dx: { buf: h(dx), offset: 0 } }));
        await closeOnDevice(g, dx, `dropoutBackward n=${n} p=${p}`, 0);
      }
    }
  }
  assert.throws(() => g.dropout({ x: { buf: g.alloc(1, 'float32', true), offset: 0 }, n: 1, p: 1, state: new Uint32Array(4),
    out: { buf: g.alloc(1, 'float32', true), offset: 0 }, keepBits: { buf: g.alloc(1, 'int32', true), offset: 0 } }), /p must be in \[0, 1\)/);
});

test('embedding and its backward: repeated ids scatter-add, dweight wholly written', async (t) => {
  const g = dev(t);
  if (g === undefined) return;
  for (const [count, dim, vocab] of [[1, 1, 1], [7, 33, 5], [1000, 33, 50], [33, 512, 1000]] as const) {
    const weight = twin(g, randn(vocab * dim + 1));
    const ids = twin(g, randi(count, vocab));
    const out = twin(g, new Float32Array(count * dim));
    const dy = twin(g, randn(count * dim));
    const dw = twin(g, randn(vocab * dim + 2)); // garbage that must be overwritten
    both(g, (b, h) => {
      b.embedding({ weight: { buf: h(weight), offset: 1 }, ids: { buf: h(ids), offset: 0 }, count, dim, out: { buf: h(out), offset: 0 } });
      b.embeddingBackward({ dy: { buf: h(dy), offset: 0 }, ids: { buf: h(ids), offset: 0 }, count, dim, vocab, dweight: { buf: h(dw), offset: 2 } });
    });
    await closeOnDevice(g, out, `embedding ${count}x${dim}`, 0);
    await closeOnDevice(g, dw, `embedding backward ${count}x${dim} vocab ${vocab}`, 1e-5, Math.sqrt(count / vocab) + 1);
  }
});

test('adam: several steps, L2 and decoupled weight decay', async (t) => {
  const g = dev(t);
  if (g === undefined) return;
  for (const [n, decoupled, weightDecay] of [[1, false, 0], [33, false, 0.01], [1000, true, 0.1]] as const) {
    const param = twin(g, randn(n));
    const m = twin(g, new Float32Array(n));
    const v = twin(g, new Float32Array(n));
    for (let step = 1; step <= 4; step++) {
      const grad = twin(g, randn(n));
      both(g, (b, h) => b.adam({ param: { buf: h(param), offset: 0 }, grad: { buf: h(grad), offset: 0 }, m: { buf: h(m), offset: 0 }, v: { buf: h(v), offset: 0 },
        n, lr: 1e-3, beta1: 0.9, beta2: 0.98, eps: 1e-9, weightDecay, step, decoupled }));
    }
    await closeOnDevice(g, param, `adam param n=${n} decoupled=${decoupled}`);
    await closeOnDevice(g, m, `adam m n=${n}`);
    await closeOnDevice(g, v, `adam v n=${n}`);
  }
});

test('errors name the problem: a foreign buffer, a buffer beyond the device limit, a WGSL compile error, a lost device', async (t) => {
  const g = dev(t);
  if (g === undefined) return;
  assert.throws(() => g.unary('exp', { buf: new Float32Array(4), offset: 0 }, { buf: g.alloc(4, 'float32', false), offset: 0 }, 4), /not a WebGPU buffer/);
  assert.throws(() => g.alloc(2 ** 40, 'float32', false), /4398046511104 bytes exceeds .*maxBufferSize/);
  const { device } = await acquireDevice();
  const rt = new Runtime(device, rowTeams(null));
  try {
    const broken = defineKernel('test_broken_kernel', () => ({ params: paramLayout({ n: 'u32' }), buffers: 0, code: '@compute @workgroup_size(1) fn main() { let x: f32 = undefined_thing; }' }));
    rt.dispatch(broken, { n: 1 }, [], [1]);
    await assert.rejects(rt.finish(), /test_broken_kernel' failed to compile: .*undefined_thing/);
    device.destroy();
    await device.lost;
    assert.throws(() => rt.check(), /WebGPU device lost \(destroyed\)/);
  } finally {
    rt.dispose();
  }
});
