// Fused neural-network ops: softmax and log-softmax with scale and additive mask, LayerNorm, dropout,
// embedding lookup and label-smoothed cross entropy (also fused with the linear map before it), each with its
// backward beside it.

import { getBackend } from '../../backend/index.js';
import { needsGrad, record } from '../autograd.js';
import { broadcastShapes, broadcastStrides, fmt, normAxis } from '../layout.js';
import { globalRng, type Rng } from '../random.js';
import { Tensor } from '../tensor.js';
import { add, asTensor, mul } from './elementwise.js';
import { matmul } from './matmul.js';

/** Options of softmax: a factor applied first and an additive mask (broadcast to the input; -Infinity hides). */
export interface SoftmaxOptions { scale?: number; mask?: Tensor; }

function softmaxImpl(input: Tensor, axis: number, opts: SoftmaxOptions, log: boolean): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  const x0 = asTensor(input, op);
  const a = normAxis(axis, x0.rank, op);
  if (a !== x0.rank - 1) {
    // Move the axis last, normalise, move it back (views; one copy inside). A lower-rank mask first gets
    // leading size-1 dims, so that it is transposed along with x.
    const m = opts.mask;
    const fullMask = m === undefined || m.rank >= x0.rank ? m : m.reshape([...new Array<number>(x0.rank - m.rank).fill(1), ...m.shape]);
    return softmaxImpl(x0.transpose(a, -1), -1, { ...opts, mask: fullMask?.transpose(a - x0.rank + fullMask.rank, -1) }, log).transpose(a, -1);
  }
  const x = x0.contiguous();
  const scale = opts.scale ?? 1;
  const mask = opts.mask === undefined ? null : asTensor(opts.mask, op);
  if (mask !== null && broadcastShapes(x.shape, mask.shape, op).join() !== x.shape.join()) {
    throw new Error(`${op}: mask ${fmt(mask.shape)} does not broadcast to input ${fmt(x.shape)}`);
  }
  const out = Tensor.empty(x.shape);
  const backend = getBackend();
  const cols = x.shape[x.rank - 1] ?? 1;
  const rows = x.size / Math.max(cols, 1);
  backend.softmax(x.data.subarray(x.offset, x.offset + x.size), x.shape, scale,
    mask === null ? null : { data: mask.data, offset: mask.offset, strides: broadcastStrides(mask.shape, mask.strides, x.shape) }, log, out.data);
  return record(out, op, [x0], (g) => {
    const gc = g.contiguous();
    const dx = Tensor.empty(x.shape);
    backend.softmaxBackward(out.data, gc.data.subarray(gc.offset, gc.offset + gc.size), rows, cols, scale, log, dx.data);
    if (gc !== g) gc.dispose();
    return [dx];
  });
}

/** softmax(scale * x + mask) along an axis, numerically stable (max subtracted). */
export function softmax(x: Tensor, axis = -1, opts: SoftmaxOptions = {}): Tensor {
  return softmaxImpl(x, axis, opts, false);
}

/** log(softmax(scale * x + mask)) along an axis, computed as z - logsumexp(z). */
export function logSoftmax(x: Tensor, axis = -1, opts: SoftmaxOptions = {}): Tensor {
  return softmaxImpl(x, axis, opts, true);
}

/** LayerNorm over the last dimension (Ba et al. 2016): (x - mean) / sqrt(var + eps) * gamma + beta. */
export function layerNorm(input: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  return normalise(asTensor(input, 'layerNorm'), null, gamma, beta, eps, 'layerNorm');
}

/**
 * LayerNorm(a + b), the residual connection and normalisation of §3.1 in one pass over the rows (the sum is
 * kept for the backward pass, as the separate add would keep it). b must have a's shape; a broadcast b takes
 * the two-step form.
 */
export function addLayerNorm(a: Tensor, b: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  if (a.shape.join() !== b.shape.join()) return layerNorm(add(a, b), gamma, beta, eps);
  return normalise(asTensor(a, 'addLayerNorm'), asTensor(b, 'addLayerNorm'), gamma, beta, eps, 'addLayerNorm');
}

/** LayerNorm of x0, or of x0 + y0 when y0 is given (see addLayerNorm). */
function normalise(x0: Tensor, y0: Tensor | null, gamma: Tensor, beta: Tensor, eps: number, op: string): Tensor {
  const d = x0.shape[x0.rank - 1]!;
  if (gamma.rank !== 1 || beta.rank !== 1 || gamma.shape[0] !== d || beta.shape[0] !== d) {
    throw new Error(`${op}: gamma ${fmt(gamma.shape)} and beta ${fmt(beta.shape)} must be [${d}] for input ${fmt(x0.shape)}`);
  }
  const x = x0.contiguous();
  const g = gamma.contiguous();
  const b = beta.contiguous();
  const rows = x.size / d;
  const out = Tensor.empty(x.shape);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  const backend = getBackend();
  const gs = g.data.subarray(g.offset, g.offset + d);
  const dense = (t: Tensor): Float32Array => t.data.subarray(t.offset, t.offset + t.size);
  let normed = x; // what was normalised: x, or the sum x + y
  if (y0 === null) {
    backend.layerNorm(dense(x), gs, dense(b), rows, d, eps, out.data, mean, rstd);
  } else {
    const y = y0.contiguous();
    normed = Tensor.empty(x.shape);
    backend.layerNorm(dense(x), gs, dense(b), rows, d, eps, out.data, mean, rstd, { y: dense(y), sum: normed.data });
    if (y !== y0) y.dispose();
    if (x !== x0) x.dispose();
  }
  const inputs = y0 === null ? [x0, gamma, beta] : [x0, y0, gamma, beta];
  if (!needsGrad(...inputs)) {
    if (normed !== x) normed.dispose();
    return out;
  }
  const ns = dense(normed);
  return record(out, op, inputs, (dy) => {
    // ns and gs alias these buffers: fail rather than read them after they went back to the pool.
    normed.assertAlive(`${op} backward`);
    g.assertAlive(`${op} backward`);
    const dyc = dy.contiguous();
    const dx = Tensor.empty(x.shape);
    const dgamma = Tensor.empty([d], 'float32', true);
    const dbeta = Tensor.empty([d], 'float32', true);
    backend.layerNormBackward(ns, gs, mean, rstd, dense(dyc), rows, d, dx.data, dgamma.data, dbeta.data);
    if (dyc !== dy) dyc.dispose();
    return y0 === null ? [dx, dgamma, dbeta] : [dx, dx, dgamma, dbeta];
  });
}

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p); identity when !training.
 * Draws one rng.uniform() per element in row-major order (the kernel advances rng's state; its spare normal stays).
 */
export function dropout(x: Tensor, p: number, training = true, rng: Rng = globalRng): Tensor {
  return maskedDropout('dropout', x, p, training, rng, false);
}

/**
 * dropout(relu(x)) in one pass each way, from the same draws (the FFN's hidden layer, eq. (2) with dropout as
 * torch.nn.TransformerEncoderLayer applies it): its bits mark the elements kept with x > 0, so the backward is
 * dropout's. relu(x) in eval mode or with p = 0.
 */
export function reluDropout(x: Tensor, p: number, training = true, rng: Rng = globalRng): Tensor {
  return maskedDropout('reluDropout', x, p, training, rng, true);
}

/** dropout or, with `relu`, reluDropout. */
function maskedDropout(name: string, x: Tensor, p: number, training: boolean, rng: Rng, relu: boolean): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`${name}: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return relu ? x.relu() : x;
  const xc = asTensor(x, name).contiguous();
  const out = Tensor.empty(x.shape);
  const keepBits = Tensor.empty([Math.ceil(xc.size / 32)], 'int32'); // one bit per element, 1 = kept
  getBackend().dropout(xc.data.subarray(xc.offset, xc.offset + xc.size), p, rng.rawState(), out.data, keepBits.ids, relu);
  return record(out, name, [x], (g) => {
    const gc = g.contiguous();
    const dx = Tensor.empty(x.shape);
    getBackend().dropoutBackward(gc.data.subarray(gc.offset, gc.offset + gc.size), keepBits.ids, p, dx.data);
    if (gc !== g) gc.dispose();
    return [dx];
  });
}

/** Rows of `weight` [V, D] picked by int32 `ids` of any shape -> [...ids.shape, D]. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  weight.assertAlive('embedding');
  ids.assertAlive('embedding');
  if (ids.dtype !== 'int32') throw new Error(`embedding: ids must be int32, got ${ids.dtype} of shape ${fmt(ids.shape)}`);
  if (weight.rank !== 2) throw new Error(`embedding: weight must be [vocab, dim], got ${fmt(weight.shape)}`);
  const [vocab, dim] = weight.shape as [number, number];
  const idc = ids.contiguous();
  const idArr = idc.ids.subarray(idc.offset, idc.offset + idc.size);
  for (let i = 0; i < idArr.length; i++) {
    const id = idArr[i]!;
    if (!(id >= 0 && id < vocab)) throw new Error(`embedding: id ${id} at position ${i} is out of range [0, ${vocab}) for weight ${fmt(weight.shape)}`);
  }
  const w = weight.contiguous();
  const out = Tensor.empty([...ids.shape, dim]);
  const backend = getBackend();
  backend.embedding(w.data.subarray(w.offset, w.offset + w.size), idArr, dim, out.data);
  return record(out, 'embedding', [weight], (g) => {
    idc.assertAlive('embedding backward');
    const gc = g.contiguous();
    const dw = Tensor.empty(weight.shape); // zeroed by the kernel, on its threads
    backend.embeddingBackward(gc.data.subarray(gc.offset, gc.offset + gc.size), idArr, dim, dw.data, true);
    return [dw];
  });
}

/** Options of crossEntropy, as in torch.nn.functional.cross_entropy. */
export interface CrossEntropyOptions { ignoreIndex?: number; labelSmoothing?: number; }

/**
 * Mean label-smoothed cross entropy of logits [..., V] against int32 targets [...], averaged over the targets
 * that are not ignoreIndex (PyTorch's definition: (1 - eps) * nll + eps * mean over classes of -log p).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const vocab = logits.shape[logits.rank - 1]!;
  if (logits.shape.slice(0, -1).join() !== targets.shape.join()) {
    throw new Error(`crossEntropy: logits ${fmt(logits.shape)} need targets of shape ${fmt(logits.shape.slice(0, -1))}, got ${fmt(targets.shape)}`);
  }
  const { t, count, ignoreIndex, eps } = checkedTargets('crossEntropy', targets, vocab, opts);
  const x = asTensor(logits, 'crossEntropy').contiguous();
  const rows = t.length;
  const losses = new Float32Array(rows);
  const lse = new Float32Array(rows);
  const backend = getBackend();
  const xs = x.data.subarray(x.offset, x.offset + x.size);
  // The gradient of the mean for an upstream gradient of 1 is written in the same pass over the logits; backward
  // only rescales it when the upstream gradient is not 1 (the loss is almost always backward()'s root).
  const dx = needsGrad(logits) ? Tensor.empty(x.shape) : null;
  backend.crossEntropy(xs, t, rows, vocab, ignoreIndex, eps, losses, lse, dx === null ? undefined : { scale: 1 / count, dlogits: dx.data });
  const out = meanLoss(losses, count);
  if (dx === null) return out;
  let handed = false; // backward() frees the gradient once consumed, or keeps it as a leaf's .grad
  return record(out, 'crossEntropy', [logits], (g) => {
    if (handed || dx.isDisposed) {
      throw new Error(`crossEntropy backward: its gradient ${fmt(dx.shape)} was used by an earlier backward() through this loss or disposed by the tidy that made it; compute the loss again`);
    }
    handed = true;
    const s = g.item();
    return [s === 1 ? dx : mul(dx, s)];
  });
}

/** The targets as dense int32 ids, checked against the vocabulary, and how many are not ignored. */
function checkedTargets(op: string, targets: Tensor, vocab: number, opts: CrossEntropyOptions): { t: Int32Array; count: number; ignoreIndex: number; eps: number } {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const eps = opts.labelSmoothing ?? 0;
  if (targets.dtype !== 'int32') throw new Error(`${op}: targets must be int32, got ${targets.dtype} of shape ${fmt(targets.shape)}`);
  if (!(eps >= 0 && eps <= 1)) throw new Error(`${op}: labelSmoothing must be in [0, 1], got ${eps}`);
  const tc = targets.contiguous();
  const t = tc.ids.subarray(tc.offset, tc.offset + tc.size);
  let count = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === ignoreIndex) continue;
    if (!(t[i]! >= 0 && t[i]! < vocab)) throw new Error(`${op}: target ${t[i]} at position ${i} is out of range [0, ${vocab})`);
    count++;
  }
  return { t, count, ignoreIndex, eps };
}

/** The mean of per-row losses over `count` counted rows as a scalar tensor (NaN when none counts). */
function meanLoss(losses: Float32Array, count: number): Tensor {
  let total = 0;
  for (let i = 0; i < losses.length; i++) total += losses[i]!;
  const out = Tensor.empty([]);
  out.data[0] = count === 0 ? NaN : total / count;
  return out;
}

/**
 * crossEntropy(linear(x, weight, bias), targets, opts) in fewer passes (the generator and the loss of §3.4 and
 * §5.4): the logits buffer [rows, V] the GEMM writes without bias becomes the loss gradient in place, the bias
 * joins each row inside the loss's pass, and the bias gradient is summed there too. x (..., d), weight [V, d],
 * bias [V] or null, targets (...) int32.
 */
export function linearCrossEntropy(x: Tensor, weight: Tensor, bias: Tensor | null, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  asTensor(x, 'linearCrossEntropy');
  const d = x.shape[x.rank - 1]!;
  if (weight.rank !== 2 || weight.shape[1] !== d) throw new Error(`linearCrossEntropy: weight ${fmt(weight.shape)} does not map inputs ${fmt(x.shape)}`);
  const vocab = weight.shape[0]!;
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== vocab)) throw new Error(`linearCrossEntropy: bias ${fmt(bias.shape)} should be [${vocab}]`);
  if (x.shape.slice(0, -1).join() !== targets.shape.join()) {
    throw new Error(`linearCrossEntropy: inputs ${fmt(x.shape)} need targets of shape ${fmt(x.shape.slice(0, -1))}, got ${fmt(targets.shape)}`);
  }
  const { t, count, ignoreIndex, eps } = checkedTargets('linearCrossEntropy', targets, vocab, opts);
  const rows = t.length;
  const x2 = x.reshape([rows, d]).contiguous();
  const w = weight.contiguous();
  const b = bias?.contiguous() ?? null;
  const logits = Tensor.empty([rows, vocab]); // the logits without bias, then the gradient
  const backend = getBackend();
  backend.gemm({ batch: 1, m: rows, n: vocab, k: d, transA: false, transB: true, a: x2.data, aOffset: x2.offset, lda: d, strideA: 0,
    b: w.data, bOffset: w.offset, ldb: d, strideB: 0, out: logits.data, alpha: 1, beta: 0 });
  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  const grad = needsGrad(...inputs);
  const dbias = grad && bias !== null ? Tensor.empty([vocab]) : null;
  const losses = new Float32Array(rows);
  backend.crossEntropy(logits.data.subarray(0, rows * vocab), t, rows, vocab, ignoreIndex, eps, losses, new Float32Array(rows),
    grad ? { scale: 1 / count, dlogits: logits.data, columnSums: dbias?.data } : undefined,
    b === null ? undefined : b.data.subarray(b.offset, b.offset + vocab));
  const out = meanLoss(losses, count);
  if (!grad) {
    logits.dispose();
    return out;
  }
  let handed = false;
  return record(out, 'linearCrossEntropy', inputs, (g) => {
    if (handed || logits.isDisposed) {
      throw new Error('linearCrossEntropy backward: its gradient was used by an earlier backward() through this loss or disposed by the tidy that made it; compute the loss again');
    }
    handed = true;
    const s = g.item();
    const dl = s === 1 ? logits : mul(logits, s); // (rows, V)
    const grads = [
      x.requiresGrad ? matmul(dl, weight).reshape(x.shape) : null, // (rows, V) @ (V, d)
      weight.requiresGrad ? matmul(dl.transpose(0, 1), x2) : null, // (V, rows) @ (rows, d)
      ...(bias === null ? [] : [bias.requiresGrad ? (s === 1 ? dbias! : mul(dbias!, s)) : null]),
    ];
    if (dl !== logits) dl.dispose();
    logits.dispose(); // [rows, V]: the largest buffer of a step, freed as soon as it is consumed
    return grads;
  });
}
