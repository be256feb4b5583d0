// Finding and loading the compiled addon (build/Release/aiayn_native.node) and its raw function signatures.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type F32 = Float32Array;
type Strides = readonly number[];

/** The functions the addon exports; strided operands travel as (data, offset, strides), ops as codes. */
export interface NativeAddon {
  readonly dnnlVersion: string;
  readonly unaryOps: readonly string[];
  readonly binaryOps: readonly string[];
  readonly reduceOps: readonly string[];
  setThreads(n: number): number;
  threads(): number;
  /** Selects the vector variant of the exp-heavy loops ('baseline' | 'avx2' | 'avx512', capped by the CPU). */
  setSimd(name: string): string;
  /** The vector variant in use. */
  simd(): string;
  copy(s: F32, so: number, ss: Strides, d: F32, dOff: number, ds: Strides, shape: readonly number[]): void;
  unary(op: number, x: F32, out: F32): void;
  unaryBackward(op: number, x: F32, y: F32, dy: F32, dx: F32): void;
  binary(op: number, a: F32, ao: number, as: Strides, b: F32, bo: number, bs: Strides, shape: readonly number[], out: F32): void;
  where(c: F32, co: number, cs: Strides, a: F32, ao: number, as: Strides, b: F32, bo: number, bs: Strides,
    shape: readonly number[], out: F32): void;
  reduce(op: number, x: F32, outer: number, n: number, inner: number, out: F32): void;
  argmax(x: F32, outer: number, n: number, inner: number, out: Int32Array): void;
  gemm(batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean,
    a: F32, aOffset: number, lda: number, strideA: number, b: F32, bOffset: number, ldb: number, strideB: number,
    out: F32, alpha: number, beta: number, bias: F32 | null, biasOffset: number,
    batchInner?: number, strideAOuter?: number, strideBOuter?: number, ldc?: number, strideC?: number,
    strideCOuter?: number): void;
  /** dnnl_sgemm on whole buffers with no batching, for benchmarks. */
  directSgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: F32, lda: number,
    b: F32, ldb: number, beta: number, c: F32, ldc: number): void;
  softmax(x: F32, shape: readonly number[], scale: number, mask: F32 | null, maskOffset: number, maskStrides: Strides,
    log: boolean, out: F32): void;
  softmaxBackward(y: F32, dy: F32, rows: number, cols: number, scale: number, log: boolean, dx: F32): void;
  layerNorm(x: F32, gamma: F32, beta: F32, rows: number, cols: number, eps: number, out: F32, mean: F32, rstd: F32,
    y?: F32, sum?: F32): void;
  layerNormBackward(x: F32, gamma: F32, mean: F32, rstd: F32, dy: F32, rows: number, cols: number, dx: F32,
    dgamma: F32, dbeta: F32): void;
  crossEntropy(logits: F32, targets: Int32Array, rows: number, vocab: number, ignoreIndex: number, smoothing: number,
    losses: F32, logSumExp: F32, scale?: number, dlogits?: F32, bias?: F32 | null, columnSums?: F32 | null): void;
  dropout(x: F32, p: number, state: Uint32Array, out: F32, keepBits: Int32Array, relu: boolean): void;
  dropoutBackward(dy: F32, keepBits: Int32Array, p: number, dx: F32): void;
  embedding(weight: F32, ids: Int32Array, dim: number, out: F32): void;
  embeddingBackward(dy: F32, ids: Int32Array, dim: number, dweight: F32, fresh: boolean): void;
  adam(param: F32, grad: F32, m: F32, v: F32, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, step: number, decoupled: boolean): void;
  attentionScores(dims: readonly number[], scale: number, q: F32, qOffset: number, qRowStride: number, qCol: number,
    k: F32, kOffset: number, kRowStride: number, kCol: number, mask: F32 | null, maskOffset: number, maskStrides: Strides,
    probs: F32): void;
  attentionBackward(dims: readonly number[], scale: number, q: F32, qOffset: number, qRowStride: number, qCol: number,
    k: F32, kOffset: number, kRowStride: number, kCol: number, v: F32, vOffset: number, vRowStride: number, vCol: number,
    probs: F32, keepBits: Int32Array | null, p: number, dOut: F32, dq: F32, dqOffset: number, dqRowStride: number, dqCol: number,
    dk: F32, dkOffset: number, dkRowStride: number, dkCol: number, dv: F32, dvOffset: number, dvRowStride: number, dvCol: number): void;
  decoderStep(dims: readonly number[], normFirst: boolean, gelu: boolean, eps: number, ids: Int32Array, embedScale: number,
    out: F32, ...tensors: F32[]): void;
}

/** The nearest directory at or above this module's that holds a package.json (the package root). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the aiayn package root above ' + dirname(fileURLToPath(import.meta.url)));
    dir = up;
  }
  return dir;
}

/** Thread count from AIAYN_THREADS, else every core. */
function wantedThreads(): number {
  const raw = process.env['AIAYN_THREADS'];
  if (raw === undefined || raw === '') return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`AIAYN_THREADS must be a positive integer, got '${raw}'`);
  return n;
}

let addon: NativeAddon | undefined;

/**
 * Loads the addon once (path: AIAYN_NATIVE_PATH, else build/Release/aiayn_native.node under the package root),
 * sets its thread count (AIAYN_THREADS) and optionally its vector variant (AIAYN_SIMD); throws a clear Error
 * when it is missing or fails to load.
 */
export function loadNativeAddon(): NativeAddon {
  if (addon !== undefined) return addon;
  const override = process.env['AIAYN_NATIVE_PATH'];
  const path = override !== undefined && override !== '' ? resolve(override)
    : join(packageRoot(), 'build', 'Release', 'aiayn_native.node');
  if (!existsSync(path)) {
    throw new Error(`native addon not found at ${path} (build it with 'npm install' or 'node scripts/build-native.mjs'; needs a C++ compiler and libdnnl-dev)`);
  }
  const threads = wantedThreads();
  let loaded: NativeAddon;
  try {
    loaded = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    throw new Error(`native addon at ${path} failed to load: ${err instanceof Error ? err.message : String(err)}`);
  }
  loaded.setThreads(threads);
  const simd = process.env['AIAYN_SIMD'];
  if (simd !== undefined && simd !== '') loaded.setSimd(simd);
  return (addon = loaded);
}
