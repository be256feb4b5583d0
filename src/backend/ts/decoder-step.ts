// Backend.decoderStep on the TypeScript backend: one decoder token (§3.1) for every row, built from this
// backend's own kernels on flat buffers: the Transformer decoder's layers, or a decoder-only model's (GPT's blocks,
// without encoder-decoder attention). The oracle of the native addon's fused step (native/kernels/decoder_step.cc).

import type { DecoderStepArgs, DecoderStepToken } from '../host/kernels.js';
import { unary } from './elementwise.js';
import { gemm } from './gemm.js';
import { layerNorm, softmax } from './nn.js';

/** out (rows, n) = x (rows, k) W^T + bias, W [n, k] (bias null: none). */
function linearRows(x: Float32Array, rows: number, k: number, w: Float32Array, n: number, bias: Float32Array | null, out: Float32Array): void {
  gemm({ batch: 1, m: rows, n, k, transA: false, transB: true, a: x, aOffset: 0, lda: k, strideA: 0, b: w, bOffset: 0,
    ldb: k, strideB: 0, out, alpha: 1, beta: 0, bias });
}

/**
 * attn (rows, h * dK) = eq. (1) for one query per row and head (q rows ldq apart) over the first n of `positions`
 * cached keys and values (rows, h, positions, dK); mask (rows, n) additive or null.
 */
function attendAll(a: DecoderStepArgs, q: Float32Array, ldq: number, k: Float32Array, v: Float32Array, positions: number,
  n: number, mask: Float32Array | null, attn: Float32Array): void {
  const dK = a.dModel / a.heads;
  const scores = new Float32Array(n);
  for (let r = 0; r < a.rows; r++) {
    for (let head = 0; head < a.heads; head++) {
      const at = (r * a.heads + head) * positions * dK;
      const qAt = r * ldq + head * dK;
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < dK; p++) s += q[qAt + p]! * k[at + j * dK + p]!;
        scores[j] = s;
      }
      softmax(scores, [n], 1 / Math.sqrt(dK), mask === null ? null : { data: mask, offset: r * n, strides: [1] }, false, scores);
      const oAt = r * a.dModel + head * dK;
      for (let p = 0; p < dK; p++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += scores[j]! * v[at + j * dK + p]!;
        attn[oAt + p] = s;
      }
    }
  }
}

/** See HostKernels.bindDecoderStep: here binding keeps the operands, and each token runs decoderStep. */
export function bindDecoderStep(a: DecoderStepArgs): (token: DecoderStepToken) => void {
  return (token) => decoderStep({ ...a, ...token });
}

/** One token of the decoder (HostKernels.bindDecoderStep) over every operand at once. */
export function decoderStep(a: DecoderStepArgs): void {
  const { rows, dModel: d, dFF, past, capacity, srcLen } = a;
  if (past >= capacity) throw new Error(`decoderStep: the self-attention cache has no room for position ${past}`);
  if (a.positional.length < (past + 1) * d) throw new Error(`decoderStep: the positional table has no row for position ${past}`);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  const norm = (x: Float32Array, g: Float32Array, b: Float32Array, out: Float32Array): void => layerNorm(x, g, b, rows, d, a.eps, out, mean, rstd);
  const x = new Float32Array(rows * d);
  const scale = Math.fround(a.embedScale);
  for (let r = 0; r < rows; r++) {
    const id = a.ids[r]!;
    if (!(id >= 0 && (id + 1) * d <= a.embedding.length)) throw new Error(`decoderStep: token id ${id} is outside the embedding table`);
    for (let j = 0; j < d; j++) x[r * d + j] = Math.fround(a.embedding[id * d + j]! * scale) + a.positional[past * d + j]!;
  }
  const mask = a.srcPad === null ? null : Float32Array.from(a.srcPad.subarray(0, rows * srcLen), (p) => (p !== 0 ? -Infinity : 0));
  const normed = new Float32Array(rows * d);
  const qkv = new Float32Array(rows * 3 * d);
  const attn = new Float32Array(rows * d);
  const y = new Float32Array(rows * d);
  const sum = new Float32Array(rows * d);
  const hidden = new Float32Array(rows * dFF);
  /** The sublayer's input: LayerNorm(x) pre-LN, x post-LN. */
  const input = (g: Float32Array, b: Float32Array): Float32Array => {
    if (!a.normFirst) return x;
    norm(x, g, b, normed);
    return normed;
  };
  /** x + y pre-LN, LayerNorm(x + y) post-LN, into x. */
  const close = (g: Float32Array, b: Float32Array): void => {
    if (a.normFirst) { for (let i = 0; i < x.length; i++) x[i] = x[i]! + y[i]!; return; }
    layerNorm(x, g, b, rows, d, a.eps, x, mean, rstd, { y, sum });
  };
  for (const l of a.layers) {
    linearRows(input(l.norm1G, l.norm1B), rows, d, l.selfInW, 3 * d, l.selfInB, qkv);
    const dK = d / a.heads;
    for (let r = 0; r < rows; r++) {
      for (let head = 0; head < a.heads; head++) {
        const at = ((r * a.heads + head) * capacity + past) * dK;
        l.selfK.set(qkv.subarray(r * 3 * d + d + head * dK, r * 3 * d + d + (head + 1) * dK), at);
        l.selfV.set(qkv.subarray(r * 3 * d + 2 * d + head * dK, r * 3 * d + 2 * d + (head + 1) * dK), at);
      }
    }
    attendAll(a, qkv, 3 * d, l.selfK, l.selfV, capacity, past + 1, null, attn);
    linearRows(attn, rows, d, l.selfOutW, d, l.selfOutB, y);
    close(l.norm1G, l.norm1B);
    if (a.cross) { // encoder-decoder attention (absent from a decoder-only block)
      linearRows(input(l.norm2G!, l.norm2B!), rows, d, l.crossQW!, d, l.crossQB, qkv);
      attendAll(a, qkv, d, l.crossK!, l.crossV!, srcLen, srcLen, mask, attn);
      linearRows(attn, rows, d, l.crossOutW!, d, l.crossOutB, y);
      close(l.norm2G!, l.norm2B!);
    }
    linearRows(input(l.norm3G, l.norm3B), rows, d, l.ff1W, dFF, l.ff1B, hidden);
    unary(a.activation, hidden, hidden);
    linearRows(hidden, rows, dFF, l.ff2W, d, l.ff2B, y);
    close(l.norm3G, l.norm3B);
  }
  let last = x;
  if (a.finalNorm !== null) {
    norm(x, a.finalNorm.gamma, a.finalNorm.beta, normed);
    last = normed;
  }
  linearRows(last, rows, d, a.generatorW, a.vocab, a.generatorB, a.out);
  softmax(a.out, [rows, a.vocab], 1, null, true, a.out);
}
