// The model configuration: one typed, JSON-serialisable object, with the paper's presets (Table 3: base
// and big) and two small ones for quick experiments.

import type { AttentionKind } from '../nn/attention.js';
import type { Activation } from '../nn/feedforward.js';

/** Which embedding matrices share weights (§3.4 shares all three: source, target and pre-softmax). */
export type EmbeddingSharing = 'none' | 'target-output' | 'all';

/** Everything that determines the shape and behaviour of a Transformer. */
export interface TransformerConfig {
  srcVocab: number;
  tgtVocab: number;
  /** N for the encoder. */
  encoderLayers: number;
  /** N for the decoder. */
  decoderLayers: number;
  dModel: number;
  /** Inner size of the feed-forward network. */
  dFF: number;
  /** Number of heads h (d_k = d_v = d_model / h). */
  h: number;
  /** P_drop: residual, embedding + PE and FFN dropout (§5.4). */
  dropout: number;
  /** Dropout on attention weights. */
  attentionDropout: number;
  /** eps_ls of label smoothing (§5.4), used by the training loss. */
  labelSmoothing: number;
  /** Longest sequence the positional encoding covers. */
  maxLen: number;
  /** Pre-LN instead of the paper's post-LN. */
  normFirst: boolean;
  /** A LayerNorm after each stack (torch.nn.Transformer has one; the paper does not). */
  finalNorm: boolean;
  shareEmbeddings: EmbeddingSharing;
  positional: 'sinusoidal' | 'learned';
  activation: Activation;
  attention: AttentionKind;
  layerNormEps: number;
  /** Seed of the initialisation and dropout generator. */
  seed: number;
}

const common = {
  srcVocab: 37000, tgtVocab: 37000, attention: 'scaled-dot', activation: 'relu', positional: 'sinusoidal',
  normFirst: false, finalNorm: false, shareEmbeddings: 'all', maxLen: 1024, layerNormEps: 1e-5, labelSmoothing: 0.1, seed: 0,
} as const;

/** Named presets: the paper's base and big models (Table 3) and two small ones. */
export const PRESETS = {
  base: { ...common, encoderLayers: 6, decoderLayers: 6, dModel: 512, dFF: 2048, h: 8, dropout: 0.1, attentionDropout: 0.1 },
  big: { ...common, encoderLayers: 6, decoderLayers: 6, dModel: 1024, dFF: 4096, h: 16, dropout: 0.3, attentionDropout: 0.3 },
  small: { ...common, encoderLayers: 3, decoderLayers: 3, dModel: 256, dFF: 1024, h: 4, dropout: 0.1, attentionDropout: 0.1 },
  tiny: { ...common, encoderLayers: 2, decoderLayers: 2, dModel: 128, dFF: 512, h: 4, dropout: 0.1, attentionDropout: 0.1 },
} satisfies Record<string, TransformerConfig>;

/** A preset name. */
export type PresetName = keyof typeof PRESETS;

/** A full config: the preset with `overrides` applied, validated. */
export function makeConfig(preset: PresetName, overrides: Partial<TransformerConfig> = {}): TransformerConfig {
  const config: TransformerConfig = { ...PRESETS[preset], ...overrides };
  validateConfig(config);
  return config;
}

/** Throws a descriptive error when the config is inconsistent. */
export function validateConfig(c: TransformerConfig): void {
  const problems: string[] = [];
  for (const key of ['srcVocab', 'tgtVocab', 'encoderLayers', 'decoderLayers', 'dModel', 'dFF', 'h', 'maxLen'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) problems.push(`${key} must be a positive integer, got ${c[key]}`);
  }
  if (c.dModel % c.h !== 0) problems.push(`dModel ${c.dModel} must be divisible by h ${c.h}`);
  if (c.positional === 'sinusoidal' && c.dModel % 2 !== 0) problems.push(`sinusoidal encoding needs an even dModel, got ${c.dModel}`);
  if (c.shareEmbeddings === 'all' && c.srcVocab !== c.tgtVocab) problems.push(`shareEmbeddings 'all' needs srcVocab == tgtVocab (${c.srcVocab} vs ${c.tgtVocab})`);
  for (const key of ['dropout', 'attentionDropout', 'labelSmoothing'] as const) {
    if (!(c[key] >= 0 && c[key] < 1)) problems.push(`${key} must be in [0, 1), got ${c[key]}`);
  }
  if (problems.length > 0) throw new Error(`invalid TransformerConfig: ${problems.join('; ')}`);
}
