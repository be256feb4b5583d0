// The native backend: the oneDNN/OpenMP addon wrapped as a Backend. Typed arrays pass straight through (the
// addon reads them in place); op names become the addon's op codes.

import { BINARY_OPS, REDUCE_OPS, UNARY_OPS, type Backend } from '../backend.js';
import { hostBackend } from '../host/backend.js';
import type { DecoderStepArgs, HeadPacked, HostKernels } from '../host/kernels.js';
import { loadNativeAddon } from './addon.js';

export { loadNativeAddon, type NativeAddon } from './addon.js';

/** Name -> code table for an op list the addon exports, checked to cover every name the interface allows. */
function codes<T extends string>(list: readonly string[], wanted: readonly T[]): Record<T, number> {
  const table = {} as Record<T, number>;
  for (const name of wanted) {
    const i = list.indexOf(name);
    if (i < 0) throw new Error(`native addon lacks op '${name}' (rebuild it)`);
    table[name] = i;
  }
  return table;
}


/** A head-packed operand as the addon's four arguments. */
function packed(x: HeadPacked): [Float32Array, number, number, number] {
  return [x.data, x.offset, x.rowStride, x.col];
}

const NO_FINAL_NORM = new Float32Array(0);

/** Backend.decoderStep's buffers in the order native/decoder_step.cc reads them (its Head and Layer enums). */
function decoderStepTensors(a: DecoderStepArgs): Float32Array[] {
  const t = [a.embedding, a.positional, a.generatorW, a.generatorB, a.finalNorm?.gamma ?? NO_FINAL_NORM,
    a.finalNorm?.beta ?? NO_FINAL_NORM, a.srcPad];
  for (const l of a.layers) {
    t.push(l.selfInW, l.selfInB, l.selfOutW, l.selfOutB, l.norm1G, l.norm1B, l.crossQW, l.crossQB, l.crossOutW, l.crossOutB,
      l.norm2G, l.norm2B, l.ff1W, l.ff1B, l.ff2W, l.ff2B, l.norm3G, l.norm3B, l.selfK, l.selfV, l.crossK, l.crossV);
  }
  return t;
}

/** Loads the addon and returns it as a Backend; throws with the reason when it cannot. */
export function loadNativeBackend(): Backend {
  return hostBackend('native', loadNativeKernels());
}

/** Loads the addon and returns its kernels; throws with the reason when it cannot. */
export function loadNativeKernels(): HostKernels {
  const n = loadNativeAddon();
  const unaryCode = codes(n.unaryOps, UNARY_OPS);
  const binaryCode = codes(n.binaryOps, BINARY_OPS);
  const reduceCode = codes(n.reduceOps, REDUCE_OPS);
  return {
    threads: () => n.threads(),
    copy: (s, d, shape) => n.copy(s.data, s.offset, s.strides, d.data, d.offset, d.strides, shape),
    unary: (op, x, out) => n.unary(unaryCode[op], x, out),
    unaryBackward: (op, x, y, dy, dx) => n.unaryBackward(unaryCode[op], x, y, dy, dx),
    binary: (op, a, b, shape, out) =>
      n.binary(binaryCode[op], a.data, a.offset, a.strides, b.data, b.offset, b.strides, shape, out),
    where: (c, a, b, shape, out) =>
      n.where(c.data, c.offset, c.strides, a.data, a.offset, a.strides, b.data, b.offset, b.strides, shape, out),
    reduce: (op, x, outer, len, inner, out) => n.reduce(reduceCode[op], x, outer, len, inner, out),
    argmax: (x, outer, len, inner, out) => n.argmax(x, outer, len, inner, out),
    gemm: (g) => n.gemm(g.batch, g.m, g.n, g.k, g.transA, g.transB, g.a, g.aOffset, g.lda, g.strideA,
      g.b, g.bOffset, g.ldb, g.strideB, g.out, g.alpha, g.beta, g.bias ?? null, g.biasOffset ?? 0,
      g.batchInner, g.strideAOuter ?? 0, g.strideBOuter ?? 0, g.ldc, g.strideC, g.strideCOuter),
    softmax: (x, shape, scale, mask, log, out) => mask === null
      ? n.softmax(x, shape, scale, null, 0, [], log, out)
      : n.softmax(x, shape, scale, mask.data, mask.offset, mask.strides, log, out),
    softmaxBackward: (y, dy, rows, cols, scale, log, dx) => n.softmaxBackward(y, dy, rows, cols, scale, log, dx),
    layerNorm: (x, gamma, beta, rows, cols, eps, out, mean, rstd, residual) => residual === undefined
      ? n.layerNorm(x, gamma, beta, rows, cols, eps, out, mean, rstd)
      : n.layerNorm(x, gamma, beta, rows, cols, eps, out, mean, rstd, residual.y, residual.sum),
    layerNormBackward: (x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta) =>
      n.layerNormBackward(x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta),
    crossEntropy: (logits, targets, rows, vocab, ignore, smoothing, losses, lse, grad, bias) =>
      n.crossEntropy(logits, targets, rows, vocab, ignore, smoothing, losses, lse, grad?.scale, grad?.dlogits, bias ?? null,
        grad?.columnSums ?? null),
    dropout: (x, p, state, out, keepBits, relu = false) => n.dropout(x, p, state, out, keepBits, relu),
    dropoutBackward: (dy, keepBits, p, dx) => n.dropoutBackward(dy, keepBits, p, dx),
    embedding: (weight, ids, dim, out) => n.embedding(weight, ids, dim, out),
    embeddingBackward: (dy, ids, dim, dweight, fresh = false) => n.embeddingBackward(dy, ids, dim, dweight, fresh),
    adam: (param, grad, m, v, lr, b1, b2, eps, wd, step, decoupled) =>
      n.adam(param, grad, m, v, lr, b1, b2, eps, wd, step, decoupled),
    attentionScores: (a) => n.attentionScores([a.batch, a.heads, a.tq, a.tk, a.dK, a.dV], a.scale, ...packed(a.q), ...packed(a.k),
      a.mask?.data ?? null, a.mask?.offset ?? 0, a.mask?.strides ?? [0, 0, 0, 0], a.probs),
    attentionBackward: (a) => n.attentionBackward([a.batch, a.heads, a.tq, a.tk, a.dK, a.dV], a.scale, ...packed(a.q),
      ...packed(a.k), ...packed(a.v), a.probs, a.dropout?.keepBits ?? null, a.dropout?.p ?? 0, a.dOut, ...packed(a.dq),
      ...packed(a.dk), ...packed(a.dv)),
    decoderStep: (a) => n.decoderStep([a.rows, a.dModel, a.heads, a.dFF, a.vocab, a.srcLen, a.past, a.capacity], a.normFirst,
      a.activation === 'gelu', a.eps, a.ids, a.embedScale, a.out, ...decoderStepTensors(a)),
  };
}
