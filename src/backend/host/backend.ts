// A Backend over host memory: its buffers are typed arrays from a size-keyed pool, and each handle-and-offset
// operand becomes the typed-array view that HostKernels (the ts and native kernels) take. This file is the one
// place where host buffers are cut into views. The pool makes a training loop reuse the same memory every step,
// so resident memory stays flat.

import {
  DECODER_ONLY_STEP_SUBLAYERS, DECODER_STEP_ACTIVATIONS, DECODER_STEP_SUBLAYERS, type Backend, type BackendName, type DecoderStepArgs, type Dense, type DType, type FusedPath, type HeadPacked,
  type HostArray, type HostArrayFor, type Strided,
} from '../backend.js';
import { sizeClass } from '../size-class.js';
import { forEachStrided } from '../strided.js';
import type { HeadPacked as HostHeadPacked, HostKernels, Strided as HostStrided } from './kernels.js';

/**
 * Most bytes the pool parks. A training step of the small model over a 4k-token batch frees ~3.4 GB at its end;
 * a limit below that sends the overflow to the garbage collector and every step pays for fresh zeroed, page-faulted
 * buffers (BENCHMARKS.md, "buffer pool"). AIAYN_POOL_MB overrides it (Node only).
 */
const POOL_LIMIT_BYTES = poolLimitFromEnv() ?? 8 * 2 ** 30;

/** AIAYN_POOL_MB in bytes when set (and valid) in a Node process, else undefined. */
function poolLimitFromEnv(): number | undefined {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['AIAYN_POOL_MB'];
  if (raw === undefined || raw === '') return undefined;
  const mb = Number(raw);
  if (!(mb >= 0)) throw new Error(`AIAYN_POOL_MB must be a number of megabytes >= 0, got '${raw}'`);
  return mb * 2 ** 20;
}
const pools = { float32: new Map<number, Float32Array[]>(), int32: new Map<number, Int32Array[]>() };
let pooledBytes = 0;


/** A typed array of exactly n elements (a view on a pooled buffer of its size class); zero-filled when `zero`. */
function allocHost(n: number, dtype: DType, zero: boolean): HostArray {
  const cls = sizeClass(n);
  const reused = (pools[dtype] as Map<number, HostArray[]>).get(cls)?.pop();
  if (reused !== undefined) {
    pooledBytes -= reused.byteLength;
    const data = dtype === 'float32' ? new Float32Array(reused.buffer, 0, n) : new Int32Array(reused.buffer, 0, n);
    if (zero) data.fill(0);
    return data;
  }
  const buffer = new ArrayBuffer(cls * 4);
  return dtype === 'float32' ? new Float32Array(buffer, 0, n) : new Int32Array(buffer, 0, n);
}

/** Parks a typed array's whole buffer in the pool of its dtype (unless the pool is full or it is a foreign view). */
function freeHost(data: HostArray, dtype: DType): void {
  const bytes = data.buffer.byteLength;
  if (bytes === 0 || pooledBytes + bytes > POOL_LIMIT_BYTES || data.byteOffset !== 0) return;
  const full = dtype === 'float32' ? new Float32Array(data.buffer) : new Int32Array(data.buffer);
  const pool = pools[dtype] as Map<number, HostArray[]>;
  let list = pool.get(full.length);
  if (list === undefined) pool.set(full.length, (list = []));
  list.push(full);
  pooledBytes += bytes;
}

/** Bytes currently parked in the host pool (for tests and diagnostics). */
export function pooledHostBytes(): number {
  return pooledBytes;
}

/** Drops every pooled host buffer so the garbage collector can take them. */
export function clearHostPool(): void {
  pools.float32.clear();
  pools.int32.clear();
  pooledBytes = 0;
}

/** The float32 array behind a host handle. */
function f32(buf: object): Float32Array { return buf as Float32Array; }
/** n float32 elements of a host operand. */
function fv(d: Dense, n: number): Float32Array { return f32(d.buf).subarray(d.offset, d.offset + n); }
/** n int32 elements of a host operand. */
function iv(d: Dense, n: number): Int32Array { return (d.buf as Int32Array).subarray(d.offset, d.offset + n); }
/** A float32 operand from its offset to the end of its buffer (for kernels that take their sizes from dims). */
function tail(d: Dense): Float32Array { return f32(d.buf).subarray(d.offset); }
/** A strided host operand. */
function hs(s: Strided): HostStrided { return { data: f32(s.buf), offset: s.offset, strides: s.strides }; }
/** A head-packed host operand. */
function hp(h: HeadPacked): HostHeadPacked { return { data: f32(h.buf), offset: h.offset, rowStride: h.rowStride, col: h.col }; }

/** Why the host decoder step does not compute these operands (null: it does). */
function refusesDecoderStep(a: DecoderStepArgs): string | null {
  const layout = a.sublayers.join();
  const cross = layout === DECODER_STEP_SUBLAYERS.join();
  if (!cross && layout !== DECODER_ONLY_STEP_SUBLAYERS.join()) {
    return `its layers are [${a.sublayers.join(', ')}]; the kernel computes [${DECODER_STEP_SUBLAYERS.join(', ')}] or [${DECODER_ONLY_STEP_SUBLAYERS.join(', ')}]`;
  }
  const crossFields = (l: DecoderStepArgs['layers'][number]) => [l.crossQW, l.crossQB, l.crossOutW, l.crossOutB, l.norm2G, l.norm2B, l.crossK, l.crossV];
  if (!a.layers.every((l) => crossFields(l).every((t) => (t !== null) === cross)) || (a.srcPad !== null) !== cross) {
    return cross ? 'encoder-decoder attention operands are missing' : 'a decoder-only step was given encoder-decoder attention operands';
  }
  return Object.hasOwn(DECODER_STEP_ACTIVATIONS, a.activation) ? null : `activation '${a.activation}'`;
}

/** A nullable dense operand as the typed array from its offset. */
function tailOrNull(d: Dense | null): Float32Array | null { return d === null ? null : tail(d); }

/** A fused path that computes every operand it is given (the host kernels take any shape). */
function always<A>(run: (args: A) => void): FusedPath<A> {
  return { refuses: () => null, run };
}

/** The mean of per-row losses over the rows whose target counts, in double (NaN when none counts). */
function meanOver(losses: Float32Array, targets: Int32Array, ignoreIndex: number): { mean: number; counted: number } {
  let total = 0;
  let counted = 0;
  for (let i = 0; i < losses.length; i++) {
    total += losses[i]!;
    if (targets[i] !== ignoreIndex) counted++;
  }
  return { mean: counted === 0 ? NaN : total / counted, counted };
}

/** Rows of the targets that count (not ignoreIndex). */
function countTargets(targets: Int32Array, ignoreIndex: number): number {
  let counted = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] !== ignoreIndex) counted++;
  return counted;
}

/** The host Backend named `name` over the typed-array kernels `k`. */
export function hostBackend(name: BackendName, k: HostKernels): Backend {
  const readSync = <D extends DType>(src: Dense, n: number, dtype: D): HostArrayFor<D> => {
    const data = src.buf as HostArray;
    if ((dtype === 'float32') !== (data instanceof Float32Array)) throw new Error(`read: buffer is not ${dtype}`);
    return data.slice(src.offset, src.offset + n) as HostArrayFor<D>;
  };
  return {
    name,
    memory: 'host',
    threads: () => k.threads(),
    alloc: (n, dtype, zero) => allocHost(n, dtype, zero),
    free: (buf, dtype) => freeHost(buf as HostArray, dtype),
    write: (dst, src) => (dst.buf as HostArray).set(src, dst.offset),
    read: (src, n, dtype) => Promise.resolve(readSync(src, n, dtype)),
    readSync,

    copy: (src, dst, shape, dtype) => {
      if (dtype === 'float32') { k.copy(hs(src), hs(dst), shape); return; }
      const s = src.buf as Int32Array;
      const d = dst.buf as Int32Array;
      forEachStrided(shape, [dst, src], (_start, len, off, ls) => {
        const [od, os] = [off[0]!, off[1]!];
        const [sd, ss] = [ls[0]!, ls[1]!];
        for (let j = 0; j < len; j++) d[od + j * sd] = s[os + j * ss]!;
      });
    },
    fill: (out, n, value) => (out.buf as HostArray).fill(value, out.offset, out.offset + n),
    unary: (op, x, out, n) => k.unary(op, fv(x, n), fv(out, n)),
    unaryBackward: (op, x, y, dy, dx, n) => k.unaryBackward(op, fv(x, n), fv(y, n), fv(dy, n), fv(dx, n)),
    binary: (op, a, b, shape, out) => k.binary(op, hs(a), hs(b), shape, tail(out)),
    where: (c, a, b, shape, out) => k.where(hs(c), hs(a), hs(b), shape, tail(out)),
    reduce: (op, x, outer, n, inner, out) => k.reduce(op, fv(x, outer * n * inner), outer, n, inner, fv(out, outer * inner)),
    argmax: (x, outer, n, inner, out) => k.argmax(fv(x, outer * n * inner), outer, n, inner, iv(out, outer * inner)),
    gemm: (g) => k.gemm({
      ...g, a: f32(g.a), b: f32(g.b), out: g.outOffset ? f32(g.out).subarray(g.outOffset) : f32(g.out),
      bias: g.bias === undefined || g.bias === null ? null : f32(g.bias.buf), biasOffset: g.bias?.offset ?? 0,
    }),
    softmax: (a) => {
      const size = a.shape.reduce((p, q) => p * q, 1);
      k.softmax(fv(a.x, size), a.shape, a.scale, a.mask === null ? null : hs(a.mask), a.log, fv(a.out, size));
    },
    softmaxBackward: (a) => {
      const size = a.rows * a.cols;
      k.softmaxBackward(fv(a.y, size), fv(a.dy, size), a.rows, a.cols, a.scale, a.log, fv(a.dx, size));
    },
    layerNorm: (a) => {
      const size = a.rows * a.cols;
      k.layerNorm(fv(a.x, size), fv(a.gamma, a.cols), fv(a.beta, a.cols), a.rows, a.cols, a.eps, fv(a.out, size), fv(a.mean, a.rows), fv(a.rstd, a.rows));
    },
    layerNormBackward: (a) => {
      const size = a.rows * a.cols;
      k.layerNormBackward(fv(a.x, size), fv(a.gamma, a.cols), fv(a.mean, a.rows), fv(a.rstd, a.rows), fv(a.dy, size), a.rows, a.cols,
        fv(a.dx, size), fv(a.dgamma, a.cols), fv(a.dbeta, a.cols));
    },
    crossEntropy: (a) => {
      const targets = iv(a.targets, a.rows);
      const losses = new Float32Array(a.rows);
      const grad = a.dlogits === null ? undefined : { scale: 1 / countTargets(targets, a.ignoreIndex), dlogits: fv(a.dlogits, a.rows * a.vocab) };
      k.crossEntropy(fv(a.logits, a.rows * a.vocab), targets, a.rows, a.vocab, a.ignoreIndex, a.smoothing, losses, new Float32Array(a.rows), grad);
      f32(a.loss.buf)[a.loss.offset] = meanOver(losses, targets, a.ignoreIndex).mean;
    },
    dropout: (a) => k.dropout(fv(a.x, a.n), a.p, a.state, fv(a.out, a.n), iv(a.keepBits, Math.ceil(a.n / 32))),
    dropoutBackward: (a) => k.dropoutBackward(fv(a.dy, a.n), iv(a.keepBits, Math.ceil(a.n / 32)), a.p, fv(a.dx, a.n)),
    embedding: (a) => k.embedding(tail(a.weight), iv(a.ids, a.count), a.dim, fv(a.out, a.count * a.dim)),
    embeddingBackward: (a) => k.embeddingBackward(fv(a.dy, a.count * a.dim), iv(a.ids, a.count), a.dim, fv(a.dweight, a.vocab * a.dim), true),
    adam: (a) => k.adam(fv(a.param, a.n), fv(a.grad, a.n), fv(a.m, a.n), fv(a.v, a.n), a.lr, a.beta1, a.beta2, a.eps, a.weightDecay, a.step, a.decoupled),

    fused: {
      addLayerNorm: always((a) => {
        const size = a.rows * a.cols;
        k.layerNorm(fv(a.x, size), fv(a.gamma, a.cols), fv(a.beta, a.cols), a.rows, a.cols, a.eps, fv(a.out, size), fv(a.mean, a.rows),
          fv(a.rstd, a.rows), { y: fv(a.y, size), sum: fv(a.sum, size) });
      }),
      reluDropout: always((a) => k.dropout(fv(a.x, a.n), a.p, a.state, fv(a.out, a.n), iv(a.keepBits, Math.ceil(a.n / 32)), true)),
      linearCrossEntropy: always((a) => {
        const logits = fv(a.dlogits, a.rows * a.vocab); // x W^T without bias, then the gradient in place
        k.gemm({ batch: 1, m: a.rows, n: a.vocab, k: a.d, transA: false, transB: true, a: f32(a.x.buf), aOffset: a.x.offset, lda: a.d, strideA: 0,
          b: f32(a.weight.buf), bOffset: a.weight.offset, ldb: a.d, strideB: 0, out: logits, alpha: 1, beta: 0 });
        const targets = iv(a.targets, a.rows);
        const losses = new Float32Array(a.rows);
        const grad = a.grad ? { scale: 1 / countTargets(targets, a.ignoreIndex), dlogits: logits, columnSums: a.dbias === null ? undefined : fv(a.dbias, a.vocab) } : undefined;
        k.crossEntropy(logits, targets, a.rows, a.vocab, a.ignoreIndex, a.smoothing, losses, new Float32Array(a.rows), grad,
          a.bias === null ? undefined : fv(a.bias, a.vocab));
        f32(a.loss.buf)[a.loss.offset] = meanOver(losses, targets, a.ignoreIndex).mean;
      }),
      packedAttention: {
        scores: always((a) => k.attentionScores({ ...a, q: hp(a.q), k: hp(a.k), mask: a.mask === null ? null : hs(a.mask),
          probs: fv(a.probs, a.batch * a.heads * a.tq * a.tk) })),
        backward: always((a) => k.attentionBackward({ ...a, q: hp(a.q), k: hp(a.k), v: hp(a.v), probs: fv(a.probs, a.batch * a.heads * a.tq * a.tk),
          dropout: a.dropout === null ? null : { keepBits: iv(a.dropout.keepBits, Math.ceil((a.batch * a.heads * a.tq * a.tk) / 32)), p: a.dropout.p },
          dOut: fv(a.dOut, a.batch * a.tq * a.heads * a.dV), dq: hp(a.dq), dk: hp(a.dk), dv: hp(a.dv) })),
      },
      decoderStep: {
        refuses: refusesDecoderStep,
        run(a) { this.bind(a)(a); },
        bind(a) {
          const refused = refusesDecoderStep(a);
          if (refused !== null) throw new Error(`decoderStep: refuses these operands: ${refused}`);
          const step = k.bindDecoderStep({
            ...a, activation: DECODER_STEP_ACTIVATIONS[a.activation as keyof typeof DECODER_STEP_ACTIVATIONS], cross: a.srcPad !== null, embedding: tail(a.embedding), positional: tail(a.positional),
            srcPad: tailOrNull(a.srcPad), generatorW: tail(a.generatorW), generatorB: tailOrNull(a.generatorB), out: tail(a.out),
            finalNorm: a.finalNorm === null ? null : { gamma: tail(a.finalNorm.gamma), beta: tail(a.finalNorm.beta) },
            layers: a.layers.map((l) => ({
              selfInW: tail(l.selfInW), selfInB: tail(l.selfInB), selfOutW: tail(l.selfOutW), selfOutB: tail(l.selfOutB),
              crossQW: tailOrNull(l.crossQW), crossQB: tailOrNull(l.crossQB), crossOutW: tailOrNull(l.crossOutW), crossOutB: tailOrNull(l.crossOutB),
              ff1W: tail(l.ff1W), ff1B: tail(l.ff1B), ff2W: tail(l.ff2W), ff2B: tail(l.ff2B),
              norm1G: tail(l.norm1G), norm1B: tail(l.norm1B), norm2G: tailOrNull(l.norm2G), norm2B: tailOrNull(l.norm2B), norm3G: tail(l.norm3G), norm3B: tail(l.norm3B),
              selfK: tail(l.selfK), selfV: tail(l.selfV), crossK: tailOrNull(l.crossK), crossV: tailOrNull(l.crossV),
            })),
          });
          return (token) => step({ past: token.past, ids: token.ids, out: fv(token.out, a.rows * a.vocab) });
        },
      },
    },
  };
}
