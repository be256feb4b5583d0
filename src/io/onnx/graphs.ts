// The three graphs of a seq2seq export (the layout of Hugging Face Optimum's encoder-decoder exports): the encoder
// (§3.1), the first decoder step, and a decoder step with past keys and values, so that incremental decoding
// projects each target position's self-attention keys and values once and the memory's cross-attention keys and
// values once (§3.2.3: encoder-decoder attention reads the memory; masked self-attention reads earlier positions).

import type { TransformerConfig } from '../../models/config.js';
import { attention, causalMask, embed, feedForward, layerNorm, linear, paddingMask, param, paramRows, projectQkv, residual, splitHeads, type GraphContext, type HostWeights } from './blocks.js';
import { GraphBuilder, type Dim } from './graph.js';

/** The positional table's initializer name: the learned table's parameter name or the sinusoidal buffer's. */
export function positionalTableName(config: TransformerConfig): string {
  return config.positional === 'learned' ? 'positional_encoding.weight' : 'positional_encoding.pe';
}

/** The embedding tables' parameter names (one for both when shareEmbeddings is 'all', §3.4). */
function embeddingNames(config: TransformerConfig): { src: string; tgt: string; generator: string } {
  const src = 'src_tok_emb.embedding.weight';
  const tgt = config.shareEmbeddings === 'all' ? src : 'tgt_tok_emb.embedding.weight';
  return { src, tgt, generator: config.shareEmbeddings === 'none' ? 'generator.weight' : tgt };
}

/** A graph context whose batch size is read from `ids` (B, L). */
function context(g: GraphBuilder, config: TransformerConfig, weights: HostWeights, ids: string): GraphContext {
  return { g, weights, dModel: config.dModel, heads: config.h, eps: config.layerNormEps, batch: g.op('Shape', [ids], { start: 0, end: 1 }) };
}

/** Dimension `axis` of x as an int64 scalar. */
export function dim(g: GraphBuilder, x: string, axis: number): string {
  return g.op('Gather', [g.op('Shape', [x]), g.scalar(axis, 'int64')]);
}

/** encoder_model: input_ids and attention_mask (B, S) int64 (1 = token) -> last_hidden_state (B, S, d). */
export function encoderGraph(config: TransformerConfig, weights: HostWeights): GraphBuilder {
  const g = new GraphBuilder('aiayn_encoder');
  const ids = g.input('input_ids', 'int64', ['batch', 'src_len']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'src_len']);
  const ctx = context(g, config, weights, ids);
  const positions = g.op('Range', [g.scalar(0, 'int64'), dim(g, ids, 1), g.scalar(1, 'int64')]); // (S)
  const pad = paddingMask(ctx, mask); // (B, 1, 1, S)
  let x = embed(ctx, ids, embeddingNames(config).src, param(ctx, positionalTableName(config)), positions); // (B * S, d)
  for (let i = 0; i < config.encoderLayers; i++) {
    const p = `transformer.encoder.layers.${i}`;
    x = residual(ctx, x, `${p}.norm1`, config.normFirst, (z) => {
      const [q, k, v] = projectQkv(ctx, z, `${p}.self_attn`);
      return attention(ctx, q, k, v, pad, `${p}.self_attn`);
    });
    x = residual(ctx, x, `${p}.norm2`, config.normFirst, (z) => feedForward(ctx, z, `${p}.feed_forward`, config.activation));
  }
  if (config.finalNorm) x = layerNorm(ctx, x, 'transformer.encoder.norm');
  const shape = g.op('Concat', [ctx.batch, g.constant([-1, config.dModel], 'int64')], { axis: 0 });
  g.output(g.op('Reshape', [x, shape]), 'last_hidden_state', 'float32', ['batch', 'src_len', config.dModel]);
  return g;
}

/** The names of layer i's key/value inputs (`past_key_values`) or outputs (`present`) for 'decoder' (self) or 'encoder' (cross) attention. */
export function kvNames(prefix: 'past_key_values' | 'present', layer: number, attn: 'decoder' | 'encoder'): [string, string] {
  return [`${prefix}.${layer}.${attn}.key`, `${prefix}.${layer}.${attn}.value`];
}

/**
 * decoder_model (withPast false): input_ids (B, T), encoder_attention_mask (B, S), encoder_hidden_states (B, S, d)
 * -> logits (B, T, V) and every layer's present self- and cross-attention keys and values (B, h, ·, d_k).
 * decoder_with_past_model (withPast true): input_ids (B, T) after past_len earlier positions, the mask, and the
 * past keys and values of both kinds -> logits and the self-attention keys and values of all past_len + T positions.
 */
export function decoderGraph(config: TransformerConfig, weights: HostWeights, withPast: boolean): GraphBuilder {
  const g = new GraphBuilder(withPast ? 'aiayn_decoder_with_past' : 'aiayn_decoder');
  const d = config.dModel;
  const kvShape = (len: Dim): Dim[] => ['batch', config.h, len, d / config.h];
  const ids = g.input('input_ids', 'int64', ['batch', 'tgt_len']);
  const mask = g.input('encoder_attention_mask', 'int64', ['batch', 'src_len']);
  const memory = withPast ? null : g.input('encoder_hidden_states', 'float32', ['batch', 'src_len', d]);
  const past = Array.from({ length: config.decoderLayers }, (_, i) => withPast
    ? { self: kvNames('past_key_values', i, 'decoder').map((n) => g.input(n, 'float32', kvShape('past_len'))),
      cross: kvNames('past_key_values', i, 'encoder').map((n) => g.input(n, 'float32', kvShape('src_len'))) }
    : null);
  const ctx = context(g, config, weights, ids);
  const start = withPast ? dim(g, past[0]!.self[0]!, 2) : g.scalar(0, 'int64');
  const total = g.op('Add', [start, dim(g, ids, 1)]);
  const positions = g.op('Range', [start, total, g.scalar(1, 'int64')]); // (T)
  const selfMask = causalMask(ctx, positions, total); // (T, past_len + T)
  const pad = paddingMask(ctx, mask); // (B, 1, 1, S)
  const memoryRows = memory === null ? null : g.op('Reshape', [memory, g.constant([-1, d], 'int64')]); // (B * S, d)
  const names = embeddingNames(config);
  let x = embed(ctx, ids, names.tgt, param(ctx, positionalTableName(config)), positions); // (B * T, d)
  for (let i = 0; i < config.decoderLayers; i++) {
    const p = `transformer.decoder.layers.${i}`;
    x = residual(ctx, x, `${p}.norm1`, config.normFirst, (z) => {
      const [q, k, v] = projectQkv(ctx, z, `${p}.self_attn`);
      const keys = past[i] === null ? k : g.op('Concat', [past[i]!.self[0]!, k], { axis: 2 }); // (B, h, past_len + T, d_k)
      const values = past[i] === null ? v : g.op('Concat', [past[i]!.self[1]!, v], { axis: 2 });
      const [kName, vName] = kvNames('present', i, 'decoder');
      g.output(keys, kName, 'float32', kvShape(withPast ? 'past_len + tgt_len' : 'tgt_len'));
      g.output(values, vName, 'float32', kvShape(withPast ? 'past_len + tgt_len' : 'tgt_len'));
      return attention(ctx, q, keys, values, selfMask, `${p}.self_attn`);
    });
    x = residual(ctx, x, `${p}.norm2`, config.normFirst, (z) => {
      const w = `${p}.multihead_attn.in_proj_weight`;
      const b = `${p}.multihead_attn.in_proj_bias`;
      const q = splitHeads(ctx, linear(ctx, z, paramRows(ctx, w, 0, d, 'q'), paramRows(ctx, b, 0, d, 'q')));
      if (past[i] !== null) return attention(ctx, q, past[i]!.cross[0]!, past[i]!.cross[1]!, pad, `${p}.multihead_attn`);
      const [k, v] = g.opN('Split', [linear(ctx, memoryRows!, paramRows(ctx, w, d, 3 * d, 'kv'), paramRows(ctx, b, d, 3 * d, 'kv')),
        g.constant([d, d], 'int64')], 2, { axis: 1 }).map((t) => splitHeads(ctx, t));
      const [kName, vName] = kvNames('present', i, 'encoder');
      g.output(k!, kName, 'float32', kvShape('src_len'));
      g.output(v!, vName, 'float32', kvShape('src_len'));
      return attention(ctx, q, k!, v!, pad, `${p}.multihead_attn`);
    });
    x = residual(ctx, x, `${p}.norm3`, config.normFirst, (z) => feedForward(ctx, z, `${p}.feed_forward`, config.activation));
  }
  if (config.finalNorm) x = layerNorm(ctx, x, 'transformer.decoder.norm');
  const logits = linear(ctx, x, param(ctx, names.generator), param(ctx, 'generator.bias')); // (B * T, V); W shared with the embedding when tied
  const shape = g.op('Concat', [ctx.batch, g.constant([-1, config.tgtVocab], 'int64')], { axis: 0 });
  g.output(g.op('Reshape', [logits, shape]), 'logits', 'float32', ['batch', 'tgt_len', config.tgtVocab]);
  return g;
}
