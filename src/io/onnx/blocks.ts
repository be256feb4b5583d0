// The Transformer's blocks as ONNX nodes, the same maths as src/nn (Vaswani et al. 2017): embeddings times
// sqrt(d_model) plus positions (§3.4, §3.5; GPT's h_0 = U W_e + W_p unscaled, Radford et al. 2018 §3.1), multi-head
// scaled dot-product attention (§3.2, eq. 1), the position-wise FFN (§3.3, eq. 2; ReLU, exact GELU or GPT-2's tanh
// GELU) and residual + LayerNorm around each sub-layer (§3.1; pre-LN optional, as GPT-2, Radford et al. 2019 §2.3).
// Position-wise work runs on rows (N = B * L, d); only attention reshapes to heads (B, h, L, d_k). Linear maps
// are Gemm with transB = 1 on the stored [out, in] weights, so initializers keep our parameter names and shapes.

import type { Activation } from '../../nn/feedforward.js';
import type { GraphBuilder } from './graph.js';

/** Host copies of the parameters and buffers the graphs read, by name. */
export type HostWeights = ReadonlyMap<string, { data: Float32Array; shape: readonly number[] }>;

/** What the blocks of one graph share: the builder, weights, sizes and the batch size as a 1-D int64 tensor. */
export interface GraphContext {
  g: GraphBuilder;
  weights: HostWeights;
  dModel: number;
  heads: number;
  eps: number;
  /** [B], from the shape of an input. */
  batch: string;
}

/** Registers the weight `name` (once per graph) and returns its name. */
export function param(ctx: GraphContext, name: string): string {
  const w = ctx.weights.get(name);
  if (w === undefined) throw new Error(`ONNX export: the model has no weight named ${name}`);
  return ctx.g.weight(name, w.data, [...w.shape]);
}

/** Registers rows [from, to) of the weight `name` as `name.part` (the Q or K/V part of a packed projection). */
export function paramRows(ctx: GraphContext, name: string, from: number, to: number, part: string): string {
  const w = ctx.weights.get(name);
  if (w === undefined) throw new Error(`ONNX export: the model has no weight named ${name}`);
  const cols = w.shape.length === 2 ? w.shape[1]! : 1;
  const dims = w.shape.length === 2 ? [to - from, cols] : [to - from];
  return ctx.g.weight(`${name}.${part}`, w.data.subarray(from * cols, to * cols), dims);
}

/** x W^T + b as Gemm: x (N, in), weight [out, in], bias [out] (none: x W^T) -> (N, out). */
export function linear(ctx: GraphContext, x: string, weight: string, bias?: string): string {
  return ctx.g.op('Gemm', bias === undefined ? [x, weight] : [x, weight, bias], { transB: 1 });
}

/** LayerNormalization (opset 17) over the last axis with `prefix.weight` and `prefix.bias`. */
export function layerNorm(ctx: GraphContext, x: string, prefix: string): string {
  return ctx.g.op('LayerNormalization', [x, param(ctx, `${prefix}.weight`), param(ctx, `${prefix}.bias`)], { axis: -1, epsilon: { float: ctx.eps } });
}

/**
 * The FFN's activation, elementwise: ReLU; exact GELU x Phi(x) = x (1 + erf(x / sqrt 2)) / 2; or GPT-2's tanh
 * approximation x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2 (Hendrycks & Gimpel 2016 §2). Opset 17 has no
 * Gelu op (it came in 20), so both GELUs are composed.
 */
export function activation(ctx: GraphContext, x: string, kind: Activation): string {
  const { g } = ctx;
  if (kind === 'relu') return g.op('Relu', [x]);
  let inner: string; // erf(x / sqrt 2) or tanh(sqrt(2 / pi) (x + 0.044715 x^3))
  if (kind === 'gelu') inner = g.op('Erf', [g.op('Mul', [x, g.scalar(Math.SQRT1_2, 'float32')])]);
  else {
    const cubic = g.op('Add', [x, g.op('Mul', [g.op('Mul', [g.op('Mul', [x, x]), x]), g.scalar(0.044715, 'float32')])]);
    inner = g.op('Tanh', [g.op('Mul', [cubic, g.scalar(Math.sqrt(2 / Math.PI), 'float32')])]);
  }
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [inner, g.scalar(1, 'float32')])]), g.scalar(0.5, 'float32')]);
}

/** Eq. (2): W_2 act(W_1 x + b_1) + b_2 on rows (N, d). */
export function feedForward(ctx: GraphContext, x: string, prefix: string, kind: Activation): string {
  const hidden = linear(ctx, x, param(ctx, `${prefix}.linear1.weight`), param(ctx, `${prefix}.linear1.bias`)); // (N, d_ff)
  return linear(ctx, activation(ctx, hidden, kind), param(ctx, `${prefix}.linear2.weight`), param(ctx, `${prefix}.linear2.bias`)); // (N, d)
}

/** Post-LN LayerNorm(x + sublayer(x)) or pre-LN x + sublayer(LayerNorm(x)) (§3.1, dropout off at inference). */
export function residual(ctx: GraphContext, x: string, norm: string, normFirst: boolean, sublayer: (z: string) => string): string {
  if (normFirst) return ctx.g.op('Add', [x, sublayer(layerNorm(ctx, x, norm))]);
  return layerNorm(ctx, ctx.g.op('Add', [x, sublayer(x)]), norm);
}

/** Rows (B * L, d) -> heads (B, h, L, d_k). */
export function splitHeads(ctx: GraphContext, rows: string): string {
  const { g } = ctx;
  const shape = g.op('Concat', [ctx.batch, g.constant([-1, ctx.heads, ctx.dModel / ctx.heads], 'int64')], { axis: 0 });
  return g.op('Transpose', [g.op('Reshape', [rows, shape])], { perm: [0, 2, 1, 3] }); // (B, h, L, d_k)
}

/** Self-attention's packed projection [W^Q; W^K; W^V] (`prefix.in_proj_weight`, `.in_proj_bias`) of rows (N, d) -> q, k, v (B, h, L, d_k). */
export function projectQkv(ctx: GraphContext, rows: string, prefix: string): [string, string, string] {
  const { g, dModel: d } = ctx;
  const packed = linear(ctx, rows, param(ctx, `${prefix}.in_proj_weight`), param(ctx, `${prefix}.in_proj_bias`)); // (N, 3d)
  const [q, k, v] = g.opN('Split', [packed, g.constant([d, d, d], 'int64')], 3, { axis: 1 }).map((t) => splitHeads(ctx, t));
  return [q!, k!, v!];
}

/**
 * Eq. (1) per head and the output projection W^O (§3.2.2): q (B, h, T, d_k), k and v (B, h, L, d_k), an additive
 * mask broadcastable to (B, h, T, L) -> rows (B * T, d).
 */
export function attention(ctx: GraphContext, q: string, k: string, v: string, mask: string | null, prefix: string): string {
  const { g } = ctx;
  const scores = g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]); // (B, h, T, L)
  const scaled = g.op('Mul', [scores, g.scalar(1 / Math.sqrt(ctx.dModel / ctx.heads), 'float32')]);
  const weights = g.op('Softmax', [mask === null ? scaled : g.op('Add', [scaled, mask])], { axis: -1 });
  const heads = g.op('Transpose', [g.op('MatMul', [weights, v])], { perm: [0, 2, 1, 3] }); // (B, T, h, d_k)
  const rows = g.op('Reshape', [heads, g.constant([-1, ctx.dModel], 'int64')]); // (B * T, d)
  return linear(ctx, rows, param(ctx, `${prefix}.out_proj.weight`), param(ctx, `${prefix}.out_proj.bias`));
}

/**
 * §3.4 and §3.5: table[ids] * sqrt(d_model) + positional rows at `positions` (T, or (B, T) per row) -> rows (B * T, d).
 * `scale: false` leaves out sqrt(d_model), as GPT does (Radford et al. 2018 §3.1: h_0 = U W_e + W_p).
 */
export function embed(ctx: GraphContext, ids: string, table: string, positionalTable: string, positions: string, opts: { scale?: boolean } = {}): string {
  const { g } = ctx;
  const looked = g.op('Gather', [param(ctx, table), ids]); // (B, T, d)
  const tokens = opts.scale === false ? looked : g.op('Mul', [looked, g.scalar(Math.sqrt(ctx.dModel), 'float32')]);
  const summed = g.op('Add', [tokens, g.op('Gather', [param(ctx, positionalTable), positions])]); // + (T, d) or (B, T, d)
  return g.op('Reshape', [summed, g.constant([-1, ctx.dModel], 'int64')]); // (B * T, d)
}

/**
 * Key padding (B, S) int64, 1 = token, 0 = padding -> additive mask (B, 1, 1, S): 0 attend, `hidden` (default
 * -Infinity) hide (§3.2.3).
 */
export function paddingMask(ctx: GraphContext, attentionMask: string, hidden = -Infinity): string {
  const { g } = ctx;
  const hide = g.op('Equal', [attentionMask, g.scalar(0, 'int64')]); // (B, S) bool
  const additive = g.op('Where', [hide, g.scalar(hidden, 'float32'), g.scalar(0, 'float32')]);
  return g.op('Unsqueeze', [additive, g.constant([1, 2], 'int64')]); // (B, 1, 1, S)
}

/** Causal mask (T, L) for query positions `positions` (T) over keys 0 .. total - 1: -Infinity after the query (§3.2.3). */
export function causalMask(ctx: GraphContext, positions: string, total: string): string {
  const { g } = ctx;
  const keys = g.op('Range', [g.scalar(0, 'int64'), total, g.scalar(1, 'int64')]); // (L)
  const later = g.op('Greater', [g.op('Unsqueeze', [keys, g.constant([0], 'int64')]), g.op('Unsqueeze', [positions, g.constant([1], 'int64')])]);
  return g.op('Where', [later, g.scalar(-Infinity, 'float32'), g.scalar(0, 'float32')]); // (T, L)
}
