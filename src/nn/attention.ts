// Attention (§3.2). Scaled dot-product attention, eq. (1): Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V,
// and multi-head attention (§3.2.2): MultiHead(Q, K, V) = Concat(head_1..head_h) W^O with
// head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V), h heads of d_k = d_v = d_model / h. The projections are
// stored as torch.nn.MultiheadAttention stores them (packed in_proj_weight [3d, d], in_proj_bias [3d],
// out_proj), so PyTorch state dicts load by name. Additive (Bahdanau et al. 2015) and multiplicative
// (Luong et al. 2015, "general") scores, which §3.2.1 compares against, can be swapped in. Scaled dot-product
// attention without a cache or recorded weights runs as one op on the projections (tensor/ops/attention.ts).

import { dropout as dropoutOp } from '../tensor/ops/nn.js';
import { matmul } from '../tensor/ops/matmul.js';
import { packedAttention, type PackedHeads } from '../tensor/ops/attention.js';
import { copyInto } from '../tensor/ops/shape.js';
import { zeros } from '../tensor/ops/create.js';
import { Rng, globalRng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { uniformInit, xavierUniform } from './init.js';
import { Linear, linear } from './linear.js';
import { Module } from './module.js';

/** Options of one attention call. */
export interface AttentionOptions {
  /** Additive mask (0 attend, -Infinity hide) broadcastable to (B, h, T, S); see masks.ts. */
  mask?: Tensor;
  /** Dropout probability on the attention weights (0 = none; pass 0 in eval mode). */
  dropout?: number;
  /** Generator for the dropout mask. */
  rng?: Rng;
  /** Also return the attention weights (after softmax, before dropout). */
  returnWeights?: boolean;
}

/** The attended values and, when asked for, the weights (B, h, T, S). */
export interface AttentionResult { output: Tensor; weights: Tensor | null; }

/** softmax(scores + mask) V with optional dropout on the weights. scores (..., T, S), v (..., S, dV). */
function attend(scores: Tensor, v: Tensor, opts: AttentionOptions, scale = 1): AttentionResult {
  const weights = scores.softmax(-1, { scale, mask: opts.mask }); // (..., T, S)
  const p = opts.dropout ?? 0;
  const dropped = p > 0 ? dropoutOp(weights, p, true, opts.rng ?? globalRng) : weights;
  // (..., T, dV); 4-d heads (B, h, T, dV) are stored as (B, T, h, dV), so merging them afterwards is a view.
  const output = matmul(dropped, v, v.rank === 4 ? [0, 2, 1, 3] : undefined);
  return { output, weights: opts.returnWeights === true ? weights : null };
}

/** Eq. (1): softmax(q k^T / sqrt(d_k) + mask) v. q (..., T, dK), k (..., S, dK), v (..., S, dV) -> (..., T, dV). */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): AttentionResult {
  const dK = q.shape[q.rank - 1]!;
  const scores = matmul(q, k.transpose(-2, -1)); // (..., T, S)
  return attend(scores, v, opts, 1 / Math.sqrt(dK));
}

/** The score functions an attention layer can use (config option `attention`). */
export type AttentionKind = 'scaled-dot' | 'additive' | 'general';

/** A swappable attention function: (q, k, v) per head -> weighted values. */
export interface AttentionFunction extends Module {
  /** q (B, h, T, dK), k (B, h, S, dK), v (B, h, S, dV) -> output (B, h, T, dV). */
  forward(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionOptions): AttentionResult;
}

/** Eq. (1) as a module (no parameters). */
export class ScaledDotProductAttention extends Module implements AttentionFunction {
  /** See scaledDotProductAttention. */
  forward(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): AttentionResult {
    return scaledDotProductAttention(q, k, v, opts);
  }
}

/** Additive attention: score(q, k) = v^T tanh(W q + U k), W and U [dAttn, dK], shared by the heads. */
export class AdditiveAttention extends Module implements AttentionFunction {
  readonly wQ: Tensor;
  readonly wK: Tensor;
  readonly v: Tensor;

  constructor(readonly dK: number, readonly dAttn: number = dK, rng: Rng = new Rng(0)) {
    super();
    this.wQ = this.addParameter('w_q', xavierUniform([dAttn, dK], rng));
    this.wK = this.addParameter('w_k', xavierUniform([dAttn, dK], rng));
    this.v = this.addParameter('v', uniformInit([dAttn], Math.sqrt(6 / (dAttn + 1)), rng)); // Xavier bound of a [dAttn, 1] matrix
  }

  /** q (..., T, dK), k (..., S, dK), v (..., S, dV) -> (..., T, dV). */
  forward(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): AttentionResult {
    const wq = linear(q, this.wQ, null).unsqueeze(-2); // (..., T, 1, dA)
    const uk = linear(k, this.wK, null).unsqueeze(-3); // (..., 1, S, dA)
    const hidden = wq.add(uk).tanh(); // (..., T, S, dA)
    const scores = matmul(hidden, this.v.unsqueeze(-1)).squeeze(-1); // (..., T, S)
    return attend(scores, v, opts);
  }
}

/** Multiplicative ("general") attention: score(q, k) = q^T W k, W [dK, dK], shared by the heads, no scaling. */
export class GeneralAttention extends Module implements AttentionFunction {
  readonly weight: Tensor;

  constructor(readonly dK: number, rng: Rng = new Rng(0)) {
    super();
    this.weight = this.addParameter('weight', xavierUniform([dK, dK], rng));
  }

  /** q (..., T, dK), k (..., S, dK), v (..., S, dV) -> (..., T, dV). */
  forward(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): AttentionResult {
    const scores = matmul(matmul(q, this.weight), k.transpose(-2, -1)); // (..., T, S)
    return attend(scores, v, opts);
  }
}

/** A new attention function of the given kind for heads of size dK. */
export function makeAttention(kind: AttentionKind, dK: number, rng: Rng): AttentionFunction {
  switch (kind) {
    case 'scaled-dot': return new ScaledDotProductAttention();
    case 'additive': return new AdditiveAttention(dK, dK, rng);
    case 'general': return new GeneralAttention(dK, rng);
  }
}

/**
 * Keys and values (B, h, L, dK) kept between incremental decoding steps: 'append' (self-attention) adds
 * each step's keys and values, 'static' (encoder-decoder attention) projects the memory once. An 'append'
 * cache writes into buffers of spare capacity along L (kBuf, vBuf, doubled when full), so a step copies only
 * its own positions; k and v are views of the L positions filled so far.
 */
export interface KVCache { mode: 'append' | 'static'; k: Tensor | null; v: Tensor | null; kBuf?: Tensor; vBuf?: Tensor; }

/** An empty cache. */
export function emptyCache(mode: KVCache['mode']): KVCache { return { mode, k: null, v: null }; }

/** Frees a cache's tensors and empties it. */
export function clearCache(cache: KVCache): void {
  for (const t of [cache.k, cache.v, cache.kBuf, cache.vBuf]) t?.dispose();
  cache.k = cache.v = null;
  delete cache.kBuf;
  delete cache.vBuf;
}

/** Points a cache at buffers holding `len` filled positions (kept views), releasing its earlier views. */
export function setCacheBuffers(cache: KVCache, kBuf: Tensor, vBuf: Tensor, len: number): void {
  cache.k?.dispose();
  cache.v?.dispose();
  if (cache.kBuf !== kBuf) cache.kBuf?.dispose();
  if (cache.vBuf !== vBuf) cache.vBuf?.dispose();
  cache.kBuf = kBuf.keep();
  cache.vBuf = vBuf.keep();
  cache.k = kBuf.slice(2, 0, len).keep(); // (B, h, len, dK)
  cache.v = vBuf.slice(2, 0, len).keep();
}

/**
 * Makes an 'append' cache's buffers hold at least shape[2] positions of shape (B, h, positions, dK), doubling
 * their capacity when they are full and keeping the positions already filled; returns them.
 */
export function reserveCache(cache: KVCache, shape: readonly [number, number, number, number]): { kBuf: Tensor; vBuf: Tensor } {
  const [batch, heads, positions, dK] = shape;
  const len = cache.k?.shape[2] ?? 0;
  if (cache.kBuf !== undefined && cache.vBuf !== undefined && positions <= cache.kBuf.shape[2]!) return { kBuf: cache.kBuf, vBuf: cache.vBuf };
  const capacity = Math.max(16, 2 * (cache.kBuf?.shape[2] ?? 0), positions);
  const kBuf = Tensor.empty([batch, heads, capacity, dK]);
  const vBuf = Tensor.empty([batch, heads, capacity, dK]);
  if (len > 0) {
    copyInto(cache.k!, kBuf.slice(2, 0, len));
    copyInto(cache.v!, vBuf.slice(2, 0, len));
  }
  setCacheBuffers(cache, kBuf, vBuf, len);
  return { kBuf, vBuf };
}

/** Appends k and v (B, h, T, dK) to an 'append' cache, growing its buffers (doubling) when they are full. */
function append(cache: KVCache, k: Tensor, v: Tensor): void {
  const [batch, heads, t, dK] = k.shape as [number, number, number, number];
  const len = cache.k?.shape[2] ?? 0;
  const { kBuf, vBuf } = reserveCache(cache, [batch, heads, len + t, dK]);
  copyInto(k, kBuf.slice(2, len, len + t));
  copyInto(v, vBuf.slice(2, len, len + t));
  setCacheBuffers(cache, kBuf, vBuf, len + t);
}

/**
 * Replaces a 'static' cache's keys and values with kept, dense tensors. Heads split from a projection are
 * strided views into the whole projection; copied once into their own dense buffer, every step that reads them
 * streams contiguous memory and the projection buffer is freed.
 */
function store(cache: KVCache, k: Tensor, v: Tensor): void {
  cache.k?.dispose();
  cache.v?.dispose();
  cache.k = k.contiguous().detach().keep();
  cache.v = v.contiguous().detach().keep();
}

/** Options of MultiHeadAttention. */
export interface MultiHeadAttentionOptions {
  /** Dropout on the attention weights (torch's MultiheadAttention dropout). */
  dropout?: number;
  attention?: AttentionKind;
  rng?: Rng;
  /** Keep the last attention weights (B, h, T, S) in `lastWeights`, for visualisation. */
  recordWeights?: boolean;
}

/** §3.2.2 multi-head attention with nn.MultiheadAttention's parameter names and initialisation. */
export class MultiHeadAttention extends Module {
  readonly inProjWeight: Tensor;
  readonly inProjBias: Tensor;
  readonly outProj: Linear;
  readonly attention: AttentionFunction;
  readonly dK: number;
  readonly dropoutP: number;
  readonly rng: Rng;
  recordWeights: boolean;
  /** The weights of the last call when recordWeights is on (a kept tensor, replaced each call). */
  lastWeights: Tensor | null = null;

  constructor(readonly dModel: number, readonly h: number, opts: MultiHeadAttentionOptions = {}) {
    super();
    if (dModel % h !== 0) throw new Error(`MultiHeadAttention: d_model ${dModel} is not divisible by h ${h}`);
    this.dK = dModel / h;
    this.rng = opts.rng ?? new Rng(0);
    this.dropoutP = opts.dropout ?? 0;
    this.recordWeights = opts.recordWeights ?? false;
    this.inProjWeight = this.addParameter('in_proj_weight', xavierUniform([3 * dModel, dModel], this.rng)); // [W^Q; W^K; W^V]
    this.inProjBias = this.addParameter('in_proj_bias', zeros([3 * dModel]));
    this.outProj = this.addModule('out_proj', new Linear(dModel, dModel, { rng: this.rng })); // W^O
    this.outProj.bias!.assign(new Float32Array(dModel));
    this.attention = this.addModule('attention', makeAttention(opts.attention ?? 'scaled-dot', this.dK, this.rng));
  }

  /**
   * The Q, K, V projections as head-packed columns: one GEMM (B, L, 3d) for self-attention, one (B, S, 2d) for
   * keys and values when they are the same tensor (encoder-decoder attention), else one each.
   */
  private packedProjections(query: Tensor, key: Tensor, value: Tensor): [PackedHeads, PackedHeads, PackedHeads] {
    const d = this.dModel;
    if (query === key && key === value) {
      const qkv = linear(query, this.inProjWeight, this.inProjBias); // (B, T, 3d)
      return [{ t: qkv, col: 0 }, { t: qkv, col: d }, { t: qkv, col: 2 * d }];
    }
    const q = linear(query, this.inProjWeight.slice(0, 0, d), this.inProjBias.slice(0, 0, d)); // (B, T, d)
    return [{ t: q, col: 0 }, ...this.packedKeysValues(key, value)];
  }

  /** The K and V projections as head-packed columns: one GEMM (B, S, 2d) when key and value are the same tensor. */
  private packedKeysValues(key: Tensor, value: Tensor): [PackedHeads, PackedHeads] {
    const d = this.dModel;
    const w = this.inProjWeight;
    const b = this.inProjBias;
    if (key === value) {
      const kv = linear(key, w.slice(0, d), b.slice(0, d)); // (B, S, 2d)
      return [{ t: kv, col: 0 }, { t: kv, col: d }];
    }
    return [{ t: linear(key, w.slice(0, d, 2 * d), b.slice(0, d, 2 * d)), col: 0 }, { t: linear(value, w.slice(0, 2 * d), b.slice(0, 2 * d)), col: 0 }];
  }

  /** Head-packed columns (B, L, ·) -> heads (B, h, L, dK), a view. */
  private splitHeads(x: PackedHeads): Tensor {
    const [batch, len] = x.t.shape as [number, number, number];
    const cols = x.t.shape[2] === this.dModel ? x.t : x.t.slice(2, x.col, x.col + this.dModel); // (B, L, d)
    return cols.reshape([batch, len, this.h, this.dK]).permute([0, 2, 1, 3]); // (B, h, L, dK)
  }

  /** Projected heads q (B, h, T, dK), k and v (B, h, S, dK). */
  private headsOf(query: Tensor, key: Tensor, value: Tensor): { q: Tensor; k: Tensor; v: Tensor } {
    const [q, k, v] = this.packedProjections(query, key, value).map((x) => this.splitHeads(x));
    return { q: q!, k: k!, v: v! };
  }

  /** Projects key and value (B, S, d) into a 'static' cache's heads (B, h, S, dK) once, before decoding. */
  cacheMemory(key: Tensor, value: Tensor, cache: KVCache): void {
    const [k, v] = this.packedKeysValues(key, value);
    store(cache, this.splitHeads(k), this.splitHeads(v));
  }

  /** Heads with cached keys and values: appended to (self-attention) or projected once (memory). */
  private cachedHeads(query: Tensor, key: Tensor, value: Tensor, cache: KVCache): { q: Tensor; k: Tensor; v: Tensor } {
    const d = this.dModel;
    if (cache.mode === 'static') {
      if (cache.k === null || cache.v === null) this.cacheMemory(key, value, cache);
      const q = linear(query, this.inProjWeight.slice(0, 0, d), this.inProjBias.slice(0, 0, d)); // (B, T, d)
      return { q: this.splitHeads({ t: q, col: 0 }), k: cache.k!, v: cache.v! };
    }
    const heads = this.headsOf(query, key, value);
    append(cache, heads.k, heads.v); // cache.k, cache.v: (B, h, L + T, dK)
    return { q: heads.q, k: cache.k!, v: cache.v! };
  }

  /**
   * query (B, T, d), key and value (B, S, d), mask additive and broadcastable to (B, h, T, S) -> (B, T, d).
   * Pass the same tensor as query, key and value for self-attention, the decoder state as query and the
   * encoder memory as key and value for encoder-decoder attention. With a cache (incremental decoding, no
   * gradients), keys and values of earlier steps are reused.
   */
  forward(query: Tensor, key: Tensor, value: Tensor, mask?: Tensor, cache?: KVCache): Tensor {
    const [batch, t] = query.shape as [number, number, number];
    const p = this.training ? this.dropoutP : 0;
    if (cache === undefined && this.attention instanceof ScaledDotProductAttention && !this.recordWeights) {
      // Eq. (1) on the projections as they come: one op forward and backward (tensor/ops/attention.ts).
      const [q, k, v] = this.packedProjections(query, key, value);
      return this.outProj.forward(packedAttention(q, k, v, this.dK, this.dK, { heads: this.h, mask, dropout: p, rng: this.rng }).output);
    }
    const { q, k, v } = cache === undefined ? this.headsOf(query, key, value) : this.cachedHeads(query, key, value, cache);
    const { output, weights } = this.attention.forward(q, k, v, { mask, dropout: p, rng: this.rng, returnWeights: this.recordWeights });
    if (weights !== null) {
      this.lastWeights?.dispose();
      this.lastWeights = weights.detach().keep();
    }
    const concat = output.permute([0, 2, 1, 3]).reshape([batch, t, this.dModel]); // (B, T, h * dK)
    return this.outProj.forward(concat); // (B, T, d)
  }
}
