// The native backend: the oneDNN/OpenMP addon wrapped as a Backend. Every kernel call passes one object with the
// HostKernels method's parameters by name (the argument objects of gemm, attention and decoderStep as they are);
// typed arrays pass straight through (the addon reads them in place); op names become the addon's op codes.

import { BINARY_OPS, REDUCE_OPS, UNARY_OPS, type Backend } from '../backend.js';
import { hostBackend } from '../host/backend.js';
import type { HostKernels } from '../host/kernels.js';
import { loadNativeAddon } from './addon.js';

export { loadNativeAddon, type DirectSgemmArgs, type NativeAddon } from './addon.js';

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
    copy: (src, dst, shape) => n.copy({ src, dst, shape }),
    unary: (op, x, out) => n.unary({ op: unaryCode[op], x, out }),
    unaryBackward: (op, x, y, dy, dx) => n.unaryBackward({ op: unaryCode[op], x, y, dy, dx }),
    binary: (op, a, b, shape, out) => n.binary({ op: binaryCode[op], a, b, shape, out }),
    where: (cond, a, b, shape, out) => n.where({ cond, a, b, shape, out }),
    reduce: (op, x, outer, len, inner, out) => n.reduce({ op: reduceCode[op], x, outer, n: len, inner, out }),
    argmax: (x, outer, len, inner, out) => n.argmax({ x, outer, n: len, inner, out }),
    gemm: (args) => n.gemm(args),
    softmax: (x, shape, scale, mask, log, out) => n.softmax({ x, shape, scale, mask, log, out }),
    softmaxBackward: (y, dy, rows, cols, scale, log, dx) => n.softmaxBackward({ y, dy, rows, cols, scale, log, dx }),
    layerNorm: (x, gamma, beta, rows, cols, eps, out, mean, rstd, residual) =>
      n.layerNorm({ x, gamma, beta, rows, cols, eps, out, mean, rstd, residual }),
    layerNormBackward: (x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta) =>
      n.layerNormBackward({ x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta }),
    crossEntropy: (logits, targets, rows, vocab, ignoreIndex, smoothing, losses, logSumExp, grad, bias) =>
      n.crossEntropy({ logits, targets, rows, vocab, ignoreIndex, smoothing, losses, logSumExp, grad, bias }),
    dropout: (x, p, state, out, keepBits, relu = false) => n.dropout({ x, p, state, out, keepBits, relu }),
    dropoutBackward: (dy, keepBits, p, dx) => n.dropoutBackward({ dy, keepBits, p, dx }),
    embedding: (weight, ids, dim, out) => n.embedding({ weight, ids, dim, out }),
    embeddingBackward: (dy, ids, dim, dweight, fresh = false) => n.embeddingBackward({ dy, ids, dim, dweight, fresh }),
    adam: (param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled) =>
      n.adam({ param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, decoupled }),
    attentionScores: (args) => n.attentionScores(args),
    attentionBackward: (args) => n.attentionBackward(args),
    bindDecoderStep: (args) => {
      const step = n.decoderStepBind({ ...args, activation: unaryCode[args.activation] });
      return (token) => n.decoderStepRun({ step, past: token.past, ids: token.ids, out: token.out });
    },
  };
}
