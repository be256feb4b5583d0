// Fused neural-network kernels of the TypeScript backend: softmax, LayerNorm, label-smoothed cross entropy,
// dropout, embedding gather/scatter and the Adam update. Each has a native twin that tests compare against.

import type { CrossEntropyGrad, ResidualInput, Strided } from '../host/kernels.js';
import { xoshiro128Next } from '../xoshiro.js';
import { forEachStrided } from '../strided.js';

/** Row softmax (or log-softmax) of scale * x + mask over the last dimension. */
export function softmax(x: Float32Array, shape: readonly number[], scale: number, mask: Strided | null, log: boolean, out: Float32Array): void {
  const cols = shape[shape.length - 1] ?? 1;
  const rowShape = shape.slice(0, -1);
  const z = new Float64Array(cols);
  const maskRows: Strided = mask === null ? { data: new Float32Array(1), offset: 0, strides: rowShape.map(() => 0) }
    : { data: mask.data, offset: mask.offset, strides: mask.strides.slice(0, -1) };
  const maskColStride = mask === null ? 0 : mask.strides[shape.length - 1]!;
  const md = maskRows.data;
  forEachStrided([...rowShape, 1], [{ ...maskRows, strides: [...maskRows.strides, 0] }], (row, _len, off) => {
    const base = row * cols;
    let mx = -Infinity;
    for (let j = 0, q = off[0]!; j < cols; j++, q += maskColStride) {
      const v = scale * x[base + j]! + (mask === null ? 0 : md[q]!);
      z[j] = v;
      if (v > mx) mx = v;
    }
    if (mx === -Infinity) mx = 0;
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(z[j]! - mx);
    if (log) {
      const lse = mx + Math.log(sum);
      for (let j = 0; j < cols; j++) out[base + j] = z[j]! - lse;
    } else {
      for (let j = 0; j < cols; j++) out[base + j] = Math.exp(z[j]! - mx) / sum;
    }
  });
}

/** dx = scale * (softmax: y * (dy - sum(dy * y)); log-softmax: dy - exp(y) * sum(dy)). */
export function softmaxBackward(y: Float32Array, dy: Float32Array, rows: number, cols: number, scale: number, log: boolean, dx: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += log ? dy[base + j]! : dy[base + j]! * y[base + j]!;
    for (let j = 0; j < cols; j++) {
      const i = base + j;
      dx[i] = scale * (log ? dy[i]! - Math.exp(y[i]!) * dot : y[i]! * (dy[i]! - dot));
    }
  }
}

/** LayerNorm over the last dim (biased variance, as PyTorch), saving mean and 1/std per row; of x + y with a residual. */
export function layerNorm(x0: Float32Array, gamma: Float32Array, beta: Float32Array, rows: number, cols: number, eps: number,
  out: Float32Array, mean: Float32Array, rstd: Float32Array, residual?: ResidualInput): void {
  let x = x0;
  if (residual !== undefined) {
    const { y, sum } = residual;
    for (let i = 0; i < rows * cols; i++) sum[i] = x0[i]! + y[i]!; // rounded to float, as the native sum
    x = sum;
  }
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let mu = 0;
    for (let j = 0; j < cols; j++) mu += x[base + j]!;
    mu /= cols;
    let v = 0;
    for (let j = 0; j < cols; j++) { const d = x[base + j]! - mu; v += d * d; }
    const rs = 1 / Math.sqrt(v / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) out[base + j] = (x[base + j]! - mu) * rs * gamma[j]! + beta[j]!;
  }
}

/** LayerNorm backward: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma. */
export function layerNormBackward(x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, dy: Float32Array,
  rows: number, cols: number, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const mu = mean[r]!;
    const rs = rstd[r]!;
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < cols; j++) {
      const xhat = (x[base + j]! - mu) * rs;
      const g = dy[base + j]! * gamma[j]!;
      sumG += g;
      sumGX += g * xhat;
      dgamma[j]! += dy[base + j]! * xhat;
      dbeta[j]! += dy[base + j]!;
    }
    sumG /= cols;
    sumGX /= cols;
    for (let j = 0; j < cols; j++) {
      const xhat = (x[base + j]! - mu) * rs;
      dx[base + j] = rs * (dy[base + j]! * gamma[j]! - sumG - xhat * sumGX);
    }
  }
}

/** Per-row label-smoothed cross entropy and log-sum-exp, optionally its gradient and column sums (see Backend.crossEntropy). */
export function crossEntropy(logits: Float32Array, targets: Int32Array, rows: number, vocab: number, ignoreIndex: number,
  smoothing: number, losses: Float32Array, logSumExp: Float32Array, grad?: CrossEntropyGrad, bias?: Float32Array): void {
  const z = new Float32Array(vocab); // row r of logits + bias, read before dlogits (possibly logits itself) is written
  const sums = grad?.columnSums === undefined ? null : new Float64Array(vocab);
  const off = smoothing / vocab;
  for (let r = 0; r < rows; r++) {
    const base = r * vocab;
    for (let j = 0; j < vocab; j++) z[j] = logits[base + j]! + (bias === undefined ? 0 : bias[j]!);
    let mx = -Infinity;
    for (let j = 0; j < vocab; j++) if (z[j]! > mx) mx = z[j]!;
    let sum = 0;
    let total = 0;
    for (let j = 0; j < vocab; j++) { sum += Math.exp(z[j]! - mx); total += z[j]!; }
    const lse = mx + Math.log(sum);
    logSumExp[r] = lse;
    const t = targets[r]!;
    if (t === ignoreIndex) {
      losses[r] = 0;
      grad?.dlogits.fill(0, base, base + vocab);
      continue;
    }
    const nll = lse - z[t]!;
    const uniform = lse - total / vocab;
    losses[r] = (1 - smoothing) * nll + smoothing * uniform;
    if (grad === undefined) continue;
    // dlogits = scale * (softmax - ((1 - eps) * onehot + eps / V))
    const d = grad.dlogits;
    for (let j = 0; j < vocab; j++) d[base + j] = grad.scale * (Math.exp(z[j]! - lse) - off);
    d[base + t]! -= grad.scale * (1 - smoothing);
    if (sums !== null) for (let j = 0; j < vocab; j++) sums[j]! += d[base + j]!;
  }
  if (sums !== null) grad!.columnSums!.set(sums);
}

/**
 * Inverted dropout drawing one xoshiro128** uniform per element from `state` (advanced in place); kept = bit set.
 * With `relu`, of ReLU(x): the bit is set where kept and x > 0.
 */
export function dropout(x: Float32Array, p: number, state: Uint32Array, out: Float32Array, keepBits: Int32Array, relu = false): void {
  checkDropout(p, x.length, keepBits);
  const keep = Math.fround(1 / (1 - p));
  keepBits.fill(0, 0, Math.ceil(x.length / 32));
  for (let i = 0; i < x.length; i++) {
    const kept = xoshiro128Next(state) / 4294967296 >= p;
    if (relu) {
      const pass = kept && x[i]! > 0;
      if (pass) keepBits[i >> 5] |= 1 << (i & 31);
      out[i] = pass ? x[i]! * keep : 0;
    } else {
      if (kept) keepBits[i >> 5] |= 1 << (i & 31);
      out[i] = x[i]! * (kept ? keep : 0);
    }
  }
}

/** dx = dy * (kept ? 1 / (1 - p) : 0) with the bits dropout wrote. */
export function dropoutBackward(dy: Float32Array, keepBits: Int32Array, p: number, dx: Float32Array): void {
  checkDropout(p, dy.length, keepBits);
  const keep = Math.fround(1 / (1 - p));
  for (let i = 0; i < dy.length; i++) dx[i] = dy[i]! * ((keepBits[i >> 5]! >>> (i & 31)) & 1 ? keep : 0);
}

function checkDropout(p: number, n: number, keepBits: Int32Array): void {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout p must be in [0, 1), got ${p}`);
  if (keepBits.length < Math.ceil(n / 32)) throw new RangeError(`dropout: keepBits has ${keepBits.length} words, needs ${Math.ceil(n / 32)}`);
}

/** out[i, :] = weight[ids[i], :]. */
export function embedding(weight: Float32Array, ids: Int32Array, dim: number, out: Float32Array): void {
  for (let i = 0; i < ids.length; i++) out.set(weight.subarray(ids[i]! * dim, ids[i]! * dim + dim), i * dim);
}

/** dweight[ids[i], :] += dy[i, :], dweight zeroed first when `fresh`. */
export function embeddingBackward(dy: Float32Array, ids: Int32Array, dim: number, dweight: Float32Array, fresh = false): void {
  if (fresh) dweight.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const w = ids[i]! * dim;
    for (let j = 0; j < dim; j++) dweight[w + j]! += dy[i * dim + j]!;
  }
}

/** One Adam (or AdamW when decoupled) step, in place, with bias correction for step t. */
export function adam(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, lr: number, beta1: number,
  beta2: number, eps: number, weightDecay: number, step: number, decoupled: boolean): void {
  const c1 = 1 - Math.pow(beta1, step);
  const c2 = 1 - Math.pow(beta2, step);
  for (let i = 0; i < param.length; i++) {
    let g = grad[i]!;
    if (weightDecay !== 0 && !decoupled) g += weightDecay * param[i]!;
    if (weightDecay !== 0 && decoupled) param[i]! -= lr * weightDecay * param[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i]! -= lr * (mi / c1) / (Math.sqrt(vi / c2) + eps);
  }
}
