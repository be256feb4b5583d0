// The attention weights of a trained model for one sentence pair: softmax(Q K^T / sqrt(d_k)) of every head
// (§3.2.1-3.2.2) in every layer of the three kinds of attention the model uses (§3.2.3): encoder
// self-attention, masked decoder self-attention and encoder-decoder attention. These are what Figures 3-5 of
// the paper draw; src/inspect/heatmap.ts renders them.

import { BOS_ID, EOS_ID, PAD_ID, type Bpe } from '../data/bpe.js';
import { translate } from '../decode/translate.js';
import type { Transformer } from '../models/transformer.js';
import type { MultiHeadAttention } from '../nn/attention.js';
import { noGrad } from '../tensor/autograd.js';
import { tidy } from '../tensor/memory.js';
import { tensor } from '../tensor/ops/create.js';
import type { Tensor } from '../tensor/tensor.js';

/** Every layer's and head's attention weights for one sentence pair, with the tokens that label them. */
export interface AttentionMaps {
  /** Subword tokens of the source as the encoder sees them (EOS appended). */
  srcTokens: string[];
  /** Decoder input tokens (BOS + target subwords): the rows of decoder maps. */
  tgtTokens: string[];
  /** What each decoder position predicts next (target subwords + EOS). */
  tgtOutTokens: string[];
  /** The target text used: the given one, or the model's greedy translation. */
  translation: string;
  heads: number;
  layers: { encoder: number; decoder: number };
  /** [layer][head][query i < S][key j < S]. */
  encoderSelf: number[][][][];
  /** [layer][head][i < T][j < T], zero above the diagonal (causal mask). */
  decoderSelf: number[][][][];
  /** [layer][head][i < T][j < S]. */
  cross: number[][][][];
}

/** Options of attentionMaps. */
export interface AttentionMapsOptions {
  /** Called when the source or target is longer than the model's maximum length and gets truncated. */
  onTruncate?: (side: 'source' | 'target', length: number, max: number) => void;
}

/** Weights (1, h, T, S) of one sentence -> [head][i][j]. */
async function headsOf(weights: Tensor): Promise<number[][][]> {
  const [, h, t, s] = weights.shape as [number, number, number, number];
  const flat = await weights.data();
  const row = (head: number, i: number) => Array.from(flat.subarray((head * t + i) * s, (head * t + i + 1) * s));
  return Array.from({ length: h }, (_, head) => Array.from({ length: t }, (_, i) => row(head, i)));
}

/** The weights a layer recorded in the last forward pass. */
function recorded(attention: MultiHeadAttention, name: string): Promise<number[][][]> {
  if (attention.lastWeights === null) throw new Error(`attentionMaps: ${name} recorded no weights in the forward pass`);
  return headsOf(attention.lastWeights);
}

/**
 * Attention weights of every layer and head for one sentence pair (target = greedy translation when tgt is undefined).
 * A source or target longer than the model's maxLen is truncated as `translate` truncates (source: maxLen - 1
 * tokens + EOS; target: maxLen - 1 tokens after BOS), reported through `onTruncate`. A greedy target is
 * re-encoded from its text, so its subwords are the tokenizer's segmentation of the translation.
 */
export async function attentionMaps(model: Transformer, tokenizer: Bpe, src: string, tgt?: string, options: AttentionMapsOptions = {}): Promise<AttentionMaps> {
  const max = model.config.maxLen;
  const special = { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID };
  const translation = tgt ?? (await translate(model, tokenizer, [src], { special }))[0]!;
  const srcWords = tokenizer.encode(src);
  const tgtWords = tokenizer.encode(translation);
  if (srcWords.length + 1 > max) options.onTruncate?.('source', srcWords.length + 1, max);
  if (tgtWords.length + 1 > max) options.onTruncate?.('target', tgtWords.length + 1, max);
  const srcIds = [...srcWords.slice(0, max - 1), EOS_ID];
  const tgtIds = tgtWords.slice(0, max - 1);
  const tgtIn = [BOS_ID, ...tgtIds];

  const layers = model.attentionLayers();
  const wasRecording = layers.map(({ attention }) => attention.recordWeights);
  const wasTraining = model.training;
  model.eval();
  model.recordAttention(true);
  try {
    noGrad(() => tidy(() => {
      model.forward(tensor(srcIds, [1, srcIds.length], 'int32'), tensor(tgtIn, [1, tgtIn.length], 'int32')); // no padding
    }));
    const byName = new Map<string, number[][][]>();
    for (const { name, attention } of layers) byName.set(name, await recorded(attention, name));
    const { encoderLayers, decoderLayers } = model.config;
    const stack = (n: number, name: (layer: number) => string) => Array.from({ length: n }, (_, i) => byName.get(name(i))!);
    return {
      srcTokens: srcIds.map((id) => tokenizer.tokenText(id)),
      tgtTokens: tgtIn.map((id) => tokenizer.tokenText(id)),
      tgtOutTokens: [...tgtIds, EOS_ID].map((id) => tokenizer.tokenText(id)),
      translation,
      heads: model.config.h,
      layers: { encoder: encoderLayers, decoder: decoderLayers },
      encoderSelf: stack(encoderLayers, (i) => `encoder.${i}.self`),
      decoderSelf: stack(decoderLayers, (i) => `decoder.${i}.self`),
      cross: stack(decoderLayers, (i) => `decoder.${i}.cross`),
    };
  } finally {
    layers.forEach(({ attention }, i) => {
      attention.recordWeights = wasRecording[i]!;
      if (!attention.recordWeights) { attention.lastWeights?.dispose(); attention.lastWeights = null; }
    });
    model.train(wasTraining);
  }
}
