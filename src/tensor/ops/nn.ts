// Fused neural-network ops: softmax and log-softmax with scale and additive mask, LayerNorm, dropout,
// embedding lookup and label-smoothed cross entropy (also fused with the linear map before it), each with its
// backward beside it.

import { getBackend } from '../../backend/index.js';
import { needsGrad, record } from '../autograd.js';
import { broadcastShapes, broadcastStrides, fmt, normAxis } from '../layout.js';
import { globalRng, type Rng } from '../random.js';
import { Tensor } from '../tensor.js';
import { add, asTensor, mul } from './elementwise.js';
import { linear, matmul } from './matmul.js';

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
  backend.softmax({ x: x.dense(op), shape: x.shape, scale, log, out: out.dense(),
    mask: mask === null ? null : { ...mask.dense(op), strides: broadcastStrides(mask.shape, mask.strides, x.shape) } });
  return record(out, op, [x0], (g) => {
    const gc = g.contiguous();
    const dx = Tensor.empty(x.shape);
    backend.softmaxBackward({ y: out.dense(`${op} backward`), dy: gc.dense(), rows, cols, scale, log, dx: dx.dense() });
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
 * LayerNorm(a + b), the residual connection and normalisation of §3.1 in one pass over the rows where the
 * backend has that fused path (the sum is kept for the backward pass, as the separate add would keep it);
 * otherwise, or for a broadcast b, layerNorm(add(a, b)).
 */
export function addLayerNorm(a: Tensor, b: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const fused = getBackend().fused.addLayerNorm;
  if (fused === undefined || a.shape.join() !== b.shape.join()) return layerNorm(add(a, b), gamma, beta, eps);
  return normalise(asTensor(a, 'addLayerNorm'), asTensor(b, 'addLayerNorm'), gamma, beta, eps, 'addLayerNorm');
}

/** LayerNorm of x0, or of x0 + y0 through the fused path when y0 is given (see addLayerNorm). */
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
  const mean = Tensor.empty([rows]);
  const rstd = Tensor.empty([rows]);
  const backend = getBackend();
  const args = { x: x.dense(op), gamma: g.dense(op), beta: b.dense(op), rows, cols: d, eps, out: out.dense(), mean: mean.dense(), rstd: rstd.dense() };
  let normed = x; // what was normalised: x, or the sum x + y
  if (y0 === null) {
    backend.layerNorm(args);
  } else {
    const y = y0.contiguous();
    normed = Tensor.empty(x.shape);
    const fused = backend.fused.addLayerNorm!;
    const fusedArgs = { ...args, y: y.dense(op), sum: normed.dense() };
    const refused = fused.refuses(fusedArgs);
    if (refused !== null) {
      normed.dispose();
      mean.dispose();
      rstd.dispose();
      out.dispose();
      if (y !== y0) y.dispose();
      return layerNorm(add(x0, y0), gamma, beta, eps);
    }
    fused.run(fusedArgs);
    if (y !== y0) y.dispose();
    if (x !== x0) x.dispose();
  }
  const inputs = y0 === null ? [x0, gamma, beta] : [x0, y0, gamma, beta];
  if (!needsGrad(...inputs)) {
    if (normed !== x) normed.dispose();
    mean.dispose();
    rstd.dispose();
    return out;
  }
  return record(out, op, inputs, (dy) => {
    const dyc = dy.contiguous();
    const dx = Tensor.empty(x.shape);
    const dgamma = Tensor.empty([d], 'float32', true);
    const dbeta = Tensor.empty([d], 'float32', true);
    const back = `${op} backward`; // its saved tensors must still be alive (not freed by the tidy that made them)
    backend.layerNormBackward({ x: normed.dense(back), gamma: g.dense(back), mean: mean.dense(back), rstd: rstd.dense(back), dy: dyc.dense(),
      rows, cols: d, dx: dx.dense(), dgamma: dgamma.dense(), dbeta: dbeta.dense() });
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
 * dropout(relu(x)) from the same draws (the FFN's hidden layer, eq. (2) with dropout as
 * torch.nn.TransformerEncoderLayer applies it): one pass each way where the backend has the fused path (its
 * bits mark the elements kept with x > 0, so the backward is dropout's), else the two ops. relu(x) in eval mode
 * or with p = 0.
 */
export function reluDropout(x: Tensor, p: number, training = true, rng: Rng = globalRng): Tensor {
  return maskedDropout('reluDropout', x, p, training, rng, true);
}

/** dropout or, with `relu`, reluDropout. */
function maskedDropout(name: string, x: Tensor, p: number, training: boolean, rng: Rng, relu: boolean): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`${name}: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return relu ? x.relu() : x;
  const backend = getBackend();
  const fused = relu ? backend.fused.reluDropout : undefined;
  if (relu && fused === undefined) return maskedDropout('dropout', x.relu(), p, training, rng, false);
  const xc = asTensor(x, name).contiguous();
  const out = Tensor.empty(x.shape);
  const keepBits = Tensor.empty([Math.ceil(xc.size / 32)], 'int32'); // one bit per element, 1 = kept
  const args = { x: xc.dense(name), n: xc.size, p, state: rng.rawState(), out: out.dense(), keepBits: keepBits.dense() };
  if (fused === undefined) {
    backend.dropout(args);
  } else if (fused.refuses(args) === null) {
    fused.run(args);
  } else {
    out.dispose();
    keepBits.dispose();
    return maskedDropout('dropout', x.relu(), p, training, rng, false);
  }
  return record(out, name, [x], (g) => {
    const gc = g.contiguous();
    const dx = Tensor.empty(x.shape);
    backend.dropoutBackward({ dy: gc.dense(), keepBits: keepBits.dense(`${name} backward`), n: dx.size, p, dx: dx.dense() });
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
  const known = idc.hostIds(); // null for ids a device computed: its kernel must then stay inside the table
  if (known !== null) {
    for (let i = 0; i < known.length; i++) {
      const id = known[i]!;
      if (!(id >= 0 && id < vocab)) throw new Error(`embedding: id ${id} at position ${i} is out of range [0, ${vocab}) for weight ${fmt(weight.shape)}`);
    }
  }
  const w = weight.contiguous();
  const out = Tensor.empty([...ids.shape, dim]);
  const backend = getBackend();
  const count = idc.size;
  backend.embedding({ weight: w.dense('embedding'), ids: idc.dense('embedding'), count, dim, out: out.dense() });
  return record(out, 'embedding', [weight], (g) => {
    const gc = g.contiguous();
    const dw = Tensor.empty(weight.shape); // zeroed by the kernel
    backend.embeddingBackward({ dy: gc.dense(), ids: idc.dense('embedding backward'), count, dim, vocab, dweight: dw.dense() });
    if (gc !== g) gc.dispose();
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
  const { t, ignoreIndex, eps } = checkedTargets('crossEntropy', targets, vocab, opts);
  const x = asTensor(logits, 'crossEntropy').contiguous();
  const rows = t.size;
  // The gradient of the mean for an upstream gradient of 1 is written in the same pass over the logits; backward
  // only rescales it when the upstream gradient is not 1 (the loss is almost always backward()'s root).
  const dx = needsGrad(logits) ? Tensor.empty(x.shape) : null;
  const out = Tensor.empty([]);
  getBackend().crossEntropy({ logits: x.dense('crossEntropy'), targets: t.dense('crossEntropy'), rows, vocab, ignoreIndex, smoothing: eps,
    loss: out.dense(), dlogits: dx === null ? null : dx.dense() });
  if (dx === null) return out;
  return record(out, 'crossEntropy', [logits], once('crossEntropy', dx, (g) => [scaled(dx, g)]));
}

/** dx times the upstream scalar gradient g (dx itself when g is known to be 1, as for the root of backward()). */
function scaled(dx: Tensor, g: Tensor): Tensor {
  return g.constant === 1 ? dx : mul(dx, g);
}

/**
 * A loss's backward that hands out its precomputed gradient buffer once (backward() frees it once consumed, or
 * keeps it as a leaf's .grad), with a clear error on a second use or once the tidy that made it freed it.
 */
function once(op: string, buffer: Tensor, backward: (g: Tensor) => Array<Tensor | null>): (g: Tensor) => Array<Tensor | null> {
  let handed = false;
  return (g) => {
    if (handed || buffer.isDisposed) {
      throw new Error(`${op} backward: its gradient ${fmt(buffer.shape)} was used by an earlier backward() through this loss or disposed by the tidy that made it; compute the loss again`);
    }
    handed = true;
    return backward(g);
  };
}

/** The targets as dense int32 ids, checked against the vocabulary where they can be read on the host. */
function checkedTargets(op: string, targets: Tensor, vocab: number, opts: CrossEntropyOptions): { t: Tensor; ignoreIndex: number; eps: number } {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const eps = opts.labelSmoothing ?? 0;
  if (targets.dtype !== 'int32') throw new Error(`${op}: targets must be int32, got ${targets.dtype} of shape ${fmt(targets.shape)}`);
  if (!(eps >= 0 && eps <= 1)) throw new Error(`${op}: labelSmoothing must be in [0, 1], got ${eps}`);
  const t = targets.contiguous();
  const known = t.hostIds();
  if (known !== null) {
    for (let i = 0; i < known.length; i++) {
      if (known[i] === ignoreIndex) continue;
      if (!(known[i]! >= 0 && known[i]! < vocab)) throw new Error(`${op}: target ${known[i]} at position ${i} is out of range [0, ${vocab})`);
    }
  }
  return { t, ignoreIndex, eps };
}

/**
 * crossEntropy(linear(x, weight, bias), targets, opts) (the generator and the loss of §3.4 and §5.4), in fewer
 * passes where the backend has the fused path: the logits buffer [rows, V] the GEMM writes without bias
 * becomes the loss gradient in place, the bias joins each row inside the loss's pass, and the bias gradient is
 * summed there too. x (..., d), weight [V, d], bias [V] or null, targets (...) int32.
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
  const fused = getBackend().fused.linearCrossEntropy;
  if (fused === undefined) return crossEntropy(linear(x, weight, bias), targets, opts);
  const { t, ignoreIndex, eps } = checkedTargets('linearCrossEntropy', targets, vocab, opts);
  const rows = t.size;
  const x2 = x.reshape([rows, d]).contiguous();
  const w = weight.contiguous();
  const b = bias?.contiguous() ?? null;
  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  const grad = needsGrad(...inputs);
  const logits = Tensor.empty([rows, vocab]); // the logits without bias, then the gradient
  const dbias = grad && bias !== null ? Tensor.empty([vocab]) : null;
  const out = Tensor.empty([]);
  const op = 'linearCrossEntropy';
  const args = { x: x2.dense(op), weight: w.dense(op), bias: b === null ? null : b.dense(op), targets: t.dense(op), rows, d, vocab,
    ignoreIndex, smoothing: eps, loss: out.dense(), dlogits: logits.dense(), grad, dbias: dbias === null ? null : dbias.dense() };
  if (fused.refuses(args) !== null) {
    for (const s of [logits, dbias, out]) s?.dispose();
    return crossEntropy(linear(x, weight, bias), targets, opts);
  }
  fused.run(args);
  if (!grad) {
    logits.dispose();
    return out;
  }
  return record(out, op, inputs, once(op, logits, (g) => {
    const dl = scaled(logits, g); // (rows, V)
    const grads = [
      x.requiresGrad ? matmul(dl, weight).reshape(x.shape) : null, // (rows, V) @ (V, d)
      weight.requiresGrad ? matmul(dl.transpose(0, 1), x2) : null, // (V, rows) @ (rows, d)
      ...(bias === null ? [] : [bias.requiresGrad ? scaled(dbias!, g) : null]),
    ];
    if (dl !== logits) dl.dispose();
    logits.dispose(); // [rows, V]: the largest buffer of a step, freed as soon as it is consumed
    return grads;
  }));
}
