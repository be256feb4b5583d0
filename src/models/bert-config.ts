// The configuration of the encoder-only family: BERT (Devlin et al. 2019, §3 and Appendix A.2) and RoBERTa
// (Liu et al. 2019, §4: no token types, no next-sentence objective, positions numbered past the padding id).
// Field names are ours; src/io/hf-bert.ts maps them to and from Hugging Face config.json keys.

import type { Activation } from '../nn/feedforward.js';
import { showValue } from '../data/show.js';

/** Which member of the family: BERT's positions start at 0, RoBERTa's after padId. */
export type BertVariant = 'bert' | 'roberta';

/** Everything that determines the shape and behaviour of a BERT or RoBERTa model. */
export interface BertConfig {
  variant: BertVariant;
  vocabSize: number;
  /** H, the hidden size (d_model). */
  hiddenSize: number;
  /** L, the number of encoder layers. */
  numLayers: number;
  /** A, the number of attention heads. */
  numHeads: number;
  /** The FFN's inner size (4H in the paper). */
  intermediateSize: number;
  /** Rows of the position table (RoBERTa's includes padId + 1 unused leading rows). */
  maxPositions: number;
  /** Rows of the token-type (segment) table: 2 for BERT, 1 for RoBERTa. */
  typeVocabSize: number;
  layerNormEps: number;
  hiddenAct: Activation;
  padId: number;
  /** Dropout on embeddings, residuals and the classifier input. */
  dropout: number;
  attentionDropout: number;
  /** 0: the masked-LM model (MLM head, no pooler); > 0: a sequence classifier over this many labels. */
  numLabels: number;
  /** Seed of the initialisation and dropout generator. */
  seed: number;
}

const common = { layerNormEps: 1e-12, hiddenAct: 'gelu', dropout: 0.1, attentionDropout: 0.1, numLabels: 0, seed: 0 } as const;

/** Small presets (BERT-tiny/mini-like sizes of Turc et al. 2019) for experiments on a CPU, and BERT-base. */
export const BERT_PRESETS = {
  'bert-base': { ...common, variant: 'bert', vocabSize: 30522, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, maxPositions: 512, typeVocabSize: 2, padId: 0 },
  'bert-mini': { ...common, variant: 'bert', vocabSize: 8000, hiddenSize: 256, numLayers: 4, numHeads: 4, intermediateSize: 1024, maxPositions: 128, typeVocabSize: 2, padId: 0 },
  'bert-tiny': { ...common, variant: 'bert', vocabSize: 8000, hiddenSize: 128, numLayers: 2, numHeads: 2, intermediateSize: 512, maxPositions: 128, typeVocabSize: 2, padId: 0 },
  'roberta-tiny': { ...common, variant: 'roberta', vocabSize: 8000, hiddenSize: 128, numLayers: 2, numHeads: 2, intermediateSize: 512, maxPositions: 130, typeVocabSize: 1, padId: 1, layerNormEps: 1e-5 },
} satisfies Record<string, BertConfig>;

/** A preset name. */
export type BertPresetName = keyof typeof BERT_PRESETS;

/** A full config: the preset with `overrides` applied, validated. */
export function makeBertConfig(preset: BertPresetName, overrides: Partial<BertConfig> = {}): BertConfig {
  const config: BertConfig = { ...BERT_PRESETS[preset], ...overrides };
  validateBertConfig(config);
  return config;
}

/** Throws an error naming every inconsistent or mistyped field. */
export function validateBertConfig(c: BertConfig): void {
  const problems: string[] = [];
  for (const key of ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) problems.push(`${key} must be a positive integer, got ${showValue(c[key])}`);
  }
  if (problems.length === 0 && c.hiddenSize % c.numHeads !== 0) problems.push(`hiddenSize ${c.hiddenSize} must be divisible by numHeads ${c.numHeads}`);
  if (!['bert', 'roberta'].includes(c.variant)) problems.push(`variant must be "bert" or "roberta", got ${showValue(c.variant)}`);
  if (!['relu', 'gelu'].includes(c.hiddenAct)) problems.push(`hiddenAct must be "gelu" (erf) or "relu", got ${showValue(c.hiddenAct)}`);
  if (!Number.isInteger(c.padId) || c.padId < 0 || c.padId >= c.vocabSize) problems.push(`padId must be a token id in [0, ${c.vocabSize}), got ${showValue(c.padId)}`);
  if (c.variant === 'roberta' && Number.isInteger(c.padId) && c.maxPositions <= c.padId + 1) problems.push(`RoBERTa's maxPositions ${c.maxPositions} must exceed padId + 1 = ${c.padId + 1}`);
  for (const key of ['dropout', 'attentionDropout'] as const) {
    if (!(typeof c[key] === 'number' && c[key] >= 0 && c[key] < 1)) problems.push(`${key} must be a number in [0, 1), got ${showValue(c[key])}`);
  }
  if (!Number.isInteger(c.numLabels) || c.numLabels < 0) problems.push(`numLabels must be an integer >= 0, got ${showValue(c.numLabels)}`);
  if (!(typeof c.layerNormEps === 'number' && c.layerNormEps > 0 && c.layerNormEps < 1)) problems.push(`layerNormEps must be a number in (0, 1), got ${showValue(c.layerNormEps)}`);
  if (!Number.isSafeInteger(c.seed)) problems.push(`seed must be an integer, got ${showValue(c.seed)}`);
  if (problems.length > 0) throw new Error(`invalid BertConfig: ${problems.join('; ')}`);
}
