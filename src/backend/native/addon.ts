// Finding and loading the compiled addon (build/Release/aiayn_native.node) and its raw function signatures.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

import { packageRoot } from '../package-root.js';
import type { AttentionBackwardArgs, AttentionScoresArgs, DecoderStepArgs, DecoderStepToken, GemmArgs, ResidualInput, Strided } from '../host/kernels.js';

type F32 = Float32Array;

/** Arguments of NativeAddon.directSgemm: dnnl_sgemm's own, on whole row-major buffers. */
export interface DirectSgemmArgs {
  transA: boolean; transB: boolean; m: number; n: number; k: number; alpha: number;
  a: F32; lda: number; b: F32; ldb: number; beta: number; c: F32; ldc: number;
}

/**
 * The functions the addon exports. Every kernel takes one object whose fields are the parameters of the
 * HostKernels method of the same name (src/backend/host/kernels.ts), by those names; the native side reads each
 * field once by name (native/napi/read.h) and throws a TypeError or RangeError naming the kernel and the field.
 * Ops travel as codes: indices into unaryOps, binaryOps and reduceOps.
 */
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
  copy(args: { src: Strided; dst: Strided; shape: readonly number[] }): void;
  unary(args: { op: number; x: F32; out: F32 }): void;
  unaryBackward(args: { op: number; x: F32; y: F32; dy: F32; dx: F32 }): void;
  binary(args: { op: number; a: Strided; b: Strided; shape: readonly number[]; out: F32 }): void;
  where(args: { cond: Strided; a: Strided; b: Strided; shape: readonly number[]; out: F32 }): void;
  reduce(args: { op: number; x: F32; outer: number; n: number; inner: number; out: F32 }): void;
  argmax(args: { x: F32; outer: number; n: number; inner: number; out: Int32Array }): void;
  gemm(args: GemmArgs): void;
  /** dnnl_sgemm on whole buffers with no batching, for benchmarks that measure the wrapper's overhead. */
  directSgemm(args: DirectSgemmArgs): void;
  softmax(args: { x: F32; shape: readonly number[]; scale: number; mask: Strided | null; log: boolean; out: F32 }): void;
  softmaxBackward(args: { y: F32; dy: F32; rows: number; cols: number; scale: number; log: boolean; dx: F32 }): void;
  layerNorm(args: { x: F32; gamma: F32; beta: F32; rows: number; cols: number; eps: number; out: F32; mean: F32; rstd: F32;
    residual: ResidualInput | undefined }): void;
  layerNormBackward(args: { x: F32; gamma: F32; mean: F32; rstd: F32; dy: F32; rows: number; cols: number; dx: F32;
    dgamma: F32; dbeta: F32 }): void;
  crossEntropy(args: { logits: F32; targets: Int32Array; rows: number; vocab: number; ignoreIndex: number; smoothing: number;
    losses: F32; logSumExp: F32; grad: { scale: number; dlogits: F32; columnSums?: F32 } | undefined; bias: F32 | undefined }): void;
  dropout(args: { x: F32; p: number; state: Uint32Array; out: F32; keepBits: Int32Array; relu: boolean }): void;
  dropoutBackward(args: { dy: F32; keepBits: Int32Array; p: number; dx: F32 }): void;
  embedding(args: { weight: F32; ids: Int32Array; dim: number; out: F32 }): void;
  embeddingBackward(args: { dy: F32; ids: Int32Array; dim: number; dweight: F32; fresh: boolean }): void;
  adam(args: { param: F32; grad: F32; m: F32; v: F32; lr: number; beta1: number; beta2: number; eps: number;
    weightDecay: number; step: number; decoupled: boolean }): void;
  attentionScores(args: AttentionScoresArgs): void;
  attentionBackward(args: AttentionBackwardArgs): void;
  /** Reads a decoder step's operands but the token's once; the result is opaque, for decoderStepRun. */
  decoderStepBind(args: Omit<DecoderStepArgs, 'activation'> & { activation: number }): object;
  decoderStepRun(args: DecoderStepToken & { step: object }): void;
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

/** The newest modification time of the C++ sources under dir (the MPI addon's own tree excluded); 0 when none. */
function newestSourceTime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) { if (entry.name !== 'mpi' && entry.name !== 'build') newest = Math.max(newest, newestSourceTime(path)); }
    else if (/\.(cc|h)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * One notice when native/ holds C++ sources newer than the addon at path (a checkout that pulled C++ changes
 * without rebuilding runs old kernels: correct results, or old slow ones, never an error).
 */
function warnIfStale(path: string): void {
  const sources = join(packageRoot(), 'native');
  if (!existsSync(sources) || newestSourceTime(sources) <= statSync(path).mtimeMs) return;
  console.warn(`aiayn: the native addon at ${path} is older than the C++ sources in ${sources}; rebuild it with 'node scripts/build-native.mjs'`);
}

/**
 * Loads the addon once (path: AIAYN_NATIVE_PATH, else build/Release/aiayn_native.node under the package root),
 * sets its thread count (AIAYN_THREADS) and optionally its vector variant (AIAYN_SIMD); throws a clear Error
 * when it is missing or fails to load, and says so once when it is older than the C++ sources beside it.
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
  warnIfStale(path);
  loaded.setThreads(threads);
  const simd = process.env['AIAYN_SIMD'];
  if (simd !== undefined && simd !== '') loaded.setSimd(simd);
  return (addon = loaded);
}
