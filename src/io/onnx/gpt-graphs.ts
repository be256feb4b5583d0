// A GPT's two graphs in the layout of Hugging Face Optimum's decoder-only exports: decoder_model (the prompt) and
// decoder_with_past_model (later tokens, with every layer's keys and values so far), so that generation projects
// each position's keys and values once. The model is src/models/gpt.ts: h_0 = U W_e + W_p, N causal blocks, the
// LM head W_e^T (Radford et al. 2018 §3.1), pre-LN with a final LayerNorm for GPT-2 (Radford et al. 2019 §2.3),
// post-LN without one for GPT-1. Initializers keep the model's parameter names (wte.weight, h.0.self_attn...).
//
// Left padding: position ids are cumsum(attention_mask) - 1 over the past_len + T slots (0 at padding), so a
// left-padded row numbers its tokens from 0 as the unpadded prompt would, and padded keys are hidden from every
// query. With a mask of ones the ids are past_len .. past_len + T - 1.

import type { GptConfig } from '../../models/gpt-config.js';
import { attention, causalMask, embed, feedForward, layerNorm, linear, paddingMask, param, projectQkv, residual, type GraphContext, type HostWeights } from './blocks.js';
import { GraphBuilder, type Dim } from './graph.js';
import { dim } from './graphs.js';

/**
 * float32's lowest finite value, which hides padded keys. A left-padded query sees padding only; -Infinity there
 * would make its softmax 0/0 = NaN, and the NaN keys it yields would poison real rows in the next layer (0 x NaN).
 * Hugging Face's GPT-2 masks with the same value.
 */
const FLOAT32_LOWEST = -3.4028234663852886e38;

/** The names of layer i's key and value inputs (`past_key_values`) or outputs (`present`). */
export function gptKvNames(prefix: 'past_key_values' | 'present', layer: number): [string, string] {
  return [`${prefix}.${layer}.key`, `${prefix}.${layer}.value`];
}

/** Position ids (B, T) of the slots [start, end) of attention_mask (B, past_len + T): cumsum - 1, 0 where that is -1. */
function positionIds(ctx: GraphContext, mask: string, start: string, end: string): string {
  const { g } = ctx;
  const vector = (scalar: string): string => g.op('Unsqueeze', [scalar, g.constant([0], 'int64')]); // () -> (1)
  const counts = g.op('CumSum', [mask, g.scalar(1, 'int64')]); // (B, past_len + T)
  const ids = g.op('Sub', [g.op('Slice', [counts, vector(start), vector(end), g.constant([1], 'int64')]), g.scalar(1, 'int64')]); // (B, T)
  return g.op('Where', [g.op('Less', [ids, g.scalar(0, 'int64')]), g.scalar(0, 'int64'), ids]);
}

/**
 * decoder_model (withPast false): input_ids and attention_mask (B, T) int64 -> logits (B, T, V) and every layer's
 * present.N.key/value (B, h, T, d_k). decoder_with_past_model (withPast true): input_ids (B, T) after past_len
 * earlier positions, attention_mask (B, past_len + T) and past_key_values.N.key/value (B, h, past_len, d_k) ->
 * logits and present.N.key/value (B, h, past_len + T, d_k).
 */
export function gptGraph(config: GptConfig, weights: HostWeights, withPast: boolean): GraphBuilder {
  const g = new GraphBuilder(withPast ? 'aiayn_gpt_decoder_with_past' : 'aiayn_gpt_decoder');
  const { dModel: d, h } = config;
  const kvShape = (len: Dim): Dim[] => ['batch', h, len, d / h];
  const total: Dim = withPast ? 'past_len + seq_len' : 'seq_len';
  const ids = g.input('input_ids', 'int64', ['batch', 'seq_len']);
  const mask = g.input('attention_mask', 'int64', ['batch', total]);
  const past = Array.from({ length: config.layers }, (_, i) => (withPast ? gptKvNames('past_key_values', i).map((n) => g.input(n, 'float32', kvShape('past_len'))) : null));
  const ctx: GraphContext = { g, weights, dModel: d, heads: h, eps: config.layerNormEps, batch: g.op('Shape', [ids], { start: 0, end: 1 }) };
  const start = withPast ? dim(g, past[0]![0]!, 2) : g.scalar(0, 'int64');
  const end = g.op('Add', [start, dim(g, ids, 1)]);
  const slots = g.op('Range', [start, end, g.scalar(1, 'int64')]); // (T)
  const hide = g.op('Add', [causalMask(ctx, slots, end), paddingMask(ctx, mask, FLOAT32_LOWEST)]); // (B, 1, T, past_len + T)
  let x = embed(ctx, ids, 'wte.weight', param(ctx, 'wpe.weight'), positionIds(ctx, mask, start, end), { scale: false }); // (B * T, d)
  for (let i = 0; i < config.layers; i++) {
    const p = `h.${i}`;
    x = residual(ctx, x, `${p}.norm1`, config.normFirst, (z) => {
      const [q, k, v] = projectQkv(ctx, z, `${p}.self_attn`); // (B, h, T, d_k)
      const keys = past[i] === null ? k : g.op('Concat', [past[i]![0]!, k], { axis: 2 }); // (B, h, past_len + T, d_k)
      const values = past[i] === null ? v : g.op('Concat', [past[i]![1]!, v], { axis: 2 });
      const [kName, vName] = gptKvNames('present', i);
      g.output(keys, kName, 'float32', kvShape(total));
      g.output(values, vName, 'float32', kvShape(total));
      return attention(ctx, q, keys, values, hide, `${p}.self_attn`);
    });
    x = residual(ctx, x, `${p}.norm2`, config.normFirst, (z) => feedForward(ctx, z, `${p}.feed_forward`, config.activation));
  }
  if (config.finalNorm) x = layerNorm(ctx, x, 'ln_f');
  const logits = linear(ctx, x, param(ctx, config.tiedHead ? 'wte.weight' : 'lm_head.weight')); // (B * T, V): h_n W_e^T when tied
  const shape = g.op('Concat', [ctx.batch, g.constant([-1, config.vocabSize], 'int64')], { axis: 0 });
  g.output(g.op('Reshape', [logits, shape]), 'logits', 'float32', ['batch', 'seq_len', config.vocabSize]);
  return g;
}
