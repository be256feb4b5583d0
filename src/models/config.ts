// The model configuration: one typed, JSON-serialisable object, with the paper's presets (Table 3: base
// and big) and two small ones for quick experiments.

import type { AttentionKind } from '../nn/attention.js';
import type { Activation } from '../nn/feedforward.js';
import { showValue } from '../data/show.js';

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
  /** The FFN activation (GPT-2's tanh GELU is for GPT models: the ONNX export and decoder step know these two). */
  activation: Exclude<Activation, 'gelu-tanh'>;
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

/** The values each string-valued field may take. */
const CHOICES = {
  shareEmbeddings: ['none', 'target-output', 'all'], positional: ['sinusoidal', 'learned'], activation: ['relu', 'gelu'],
  attention: ['scaled-dot', 'additive', 'general'],
} as const satisfies Partial<Record<keyof TransformerConfig, readonly string[]>>;

/** Throws a descriptive error when the config is inconsistent or a field has the wrong type. */
export function validateConfig(c: TransformerConfig): void {
  const problems: string[] = [];
  for (const key of ['srcVocab', 'tgtVocab', 'encoderLayers', 'decoderLayers', 'dModel', 'dFF', 'h', 'maxLen'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) problems.push(`${key} must be a positive integer, got ${showValue(c[key])}`);
  }
  if (problems.length === 0) { // the sizes are integers (arithmetic on a hostile value could recurse)
    if (c.dModel % c.h !== 0) problems.push(`dModel ${c.dModel} must be divisible by h ${c.h}`);
    if (c.positional === 'sinusoidal' && c.dModel % 2 !== 0) problems.push(`sinusoidal encoding needs an even dModel, got ${c.dModel}`);
    if (c.shareEmbeddings === 'all' && c.srcVocab !== c.tgtVocab) problems.push(`shareEmbeddings 'all' needs srcVocab == tgtVocab (${c.srcVocab} vs ${c.tgtVocab})`);
  }
  for (const key of ['dropout', 'attentionDropout', 'labelSmoothing'] as const) {
    if (!(typeof c[key] === 'number' && c[key] >= 0 && c[key] < 1)) problems.push(`${key} must be a number in [0, 1), got ${showValue(c[key])}`);
  }
  for (const [key, allowed] of Object.entries(CHOICES) as Array<[keyof typeof CHOICES, readonly string[]]>) {
    if (!allowed.includes(c[key])) problems.push(`${key} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${showValue(c[key])}`);
  }
  for (const key of ['normFirst', 'finalNorm'] as const) if (typeof c[key] !== 'boolean') problems.push(`${key} must be true or false, got ${showValue(c[key])}`);
  if (!(typeof c.layerNormEps === 'number' && c.layerNormEps > 0 && c.layerNormEps < 1)) problems.push(`layerNormEps must be a number in (0, 1), got ${showValue(c.layerNormEps)}`);
  if (!Number.isSafeInteger(c.seed)) problems.push(`seed must be an integer, got ${showValue(c.seed)}`);
  if (problems.length > 0) throw new Error(`invalid TransformerConfig: ${problems.join('; ')}`);
}
