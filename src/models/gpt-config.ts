// The configuration of a decoder-only GPT (Radford et al. 2018, "Improving Language Understanding by Generative
// Pre-Training", §3.1 and §4.1; Radford et al. 2019, "Language Models are Unsupervised Multitask Learners", §2.3):
// one typed, JSON-serialisable object with GPT-2's published sizes (Table 2 of the 2019 paper) and small CPU presets.

import type { Activation } from '../nn/feedforward.js';
import { showValue } from '../data/show.js';

/** Everything that determines the shape and behaviour of a GPT. */
export interface GptConfig {
  vocabSize: number;
  /** Context length n_ctx: the learned position table's rows. */
  maxLen: number;
  layers: number;
  dModel: number;
  /** Heads h (d_k = d_model / h). */
  h: number;
  /** Inner size of the feed-forward network (4 d_model in GPT-1 and GPT-2). */
  dFF: number;
  /** Residual, embedding and FFN dropout (resid_pdrop, embd_pdrop). */
  dropout: number;
  /** Dropout on attention weights (attn_pdrop). */
  attentionDropout: number;
  /** GPT-2's pre-LN blocks (2019 §2.3) with a final LayerNorm; false: GPT-1's post-LN blocks (2018 §4.1). */
  normFirst: boolean;
  /** A LayerNorm after the last block (GPT-2's ln_f). */
  finalNorm: boolean;
  activation: Activation;
  layerNormEps: number;
  /** The LM head reuses the token embedding (both papers do). */
  tiedHead: boolean;
  /** Seed of the initialisation and dropout generator. */
  seed: number;
}

const gpt2 = {
  vocabSize: 50257, maxLen: 1024, dropout: 0.1, attentionDropout: 0.1, normFirst: true, finalNorm: true,
  activation: 'gelu-tanh', layerNormEps: 1e-5, tiedHead: true, seed: 0,
} as const;

/** Named presets: GPT-2 124M and 355M (2019, Table 2), GPT-1 (2018 §4.1) and small CPU ones. */
export const GPT_PRESETS = {
  gpt2: { ...gpt2, layers: 12, dModel: 768, h: 12, dFF: 3072 },
  'gpt2-medium': { ...gpt2, layers: 24, dModel: 1024, h: 16, dFF: 4096 },
  gpt1: { ...gpt2, vocabSize: 40478, maxLen: 512, layers: 12, dModel: 768, h: 12, dFF: 3072, normFirst: false, finalNorm: false },
  /** nanoGPT's CPU recipe for character-level tiny Shakespeare (65 characters). */
  'shakespeare-char': { ...gpt2, vocabSize: 65, maxLen: 64, layers: 4, dModel: 128, h: 4, dFF: 512, dropout: 0, attentionDropout: 0 },
  /** The same small shape over GPT-2's BPE vocabulary. */
  'shakespeare-bpe': { ...gpt2, maxLen: 64, layers: 4, dModel: 128, h: 4, dFF: 512, dropout: 0, attentionDropout: 0 },
} satisfies Record<string, GptConfig>;

/** A GPT preset name. */
export type GptPresetName = keyof typeof GPT_PRESETS;

/** A full config: the preset with `overrides` applied, validated; an unknown preset names the known ones. */
export function makeGptConfig(preset: string, overrides: Partial<GptConfig> = {}): GptConfig {
  if (!(preset in GPT_PRESETS)) throw new Error(`unknown GPT preset '${preset}'; known: ${Object.keys(GPT_PRESETS).join(', ')}`);
  const config: GptConfig = { ...GPT_PRESETS[preset as GptPresetName], ...overrides };
  validateGptConfig(config);
  return config;
}

/** Throws a descriptive error when the config is inconsistent or a field has the wrong type. */
export function validateGptConfig(c: GptConfig): void {
  const problems: string[] = [];
  for (const key of ['vocabSize', 'maxLen', 'layers', 'dModel', 'h', 'dFF'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) problems.push(`${key} must be a positive integer, got ${showValue(c[key])}`);
  }
  if (problems.length === 0 && c.dModel % c.h !== 0) problems.push(`dModel ${c.dModel} must be divisible by h ${c.h}`);
  for (const key of ['dropout', 'attentionDropout'] as const) {
    if (!(typeof c[key] === 'number' && c[key] >= 0 && c[key] < 1)) problems.push(`${key} must be a number in [0, 1), got ${showValue(c[key])}`);
  }
  if (!['relu', 'gelu', 'gelu-tanh'].includes(c.activation)) problems.push(`activation must be "relu", "gelu" or "gelu-tanh", got ${showValue(c.activation)}`);
  for (const key of ['normFirst', 'finalNorm', 'tiedHead'] as const) if (typeof c[key] !== 'boolean') problems.push(`${key} must be true or false, got ${showValue(c[key])}`);
  if (!(typeof c.layerNormEps === 'number' && c.layerNormEps > 0 && c.layerNormEps < 1)) problems.push(`layerNormEps must be a number in (0, 1), got ${showValue(c.layerNormEps)}`);
  if (!Number.isSafeInteger(c.seed)) problems.push(`seed must be an integer, got ${showValue(c.seed)}`);
  if (problems.length > 0) throw new Error(`invalid GptConfig: ${problems.join('; ')}`);
}
