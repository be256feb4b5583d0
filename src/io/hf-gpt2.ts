// Hugging Face GPT-2 checkpoints (Radford et al. 2019) in and out of the GPT model (src/models/gpt.ts). HF's GPT-2
// stores each projection as a Conv1D whose weight is (in, out) (ours, like torch.nn.Linear, is (out, in)); the
// attention's Q, K, V sit in one c_attn (d, 3d) like our in_proj_weight's [W^Q; W^K; W^V] transposed. Names come
// with `transformer.` (GPT2LMHeadModel) or without (GPT2Model); the causal-mask buffers attn.bias and
// attn.masked_bias of older checkpoints are ignored; lm_head.weight may be absent (tied to wte).

import { join } from 'node:path';
import { writeFileAtomicSync } from '../data/files.js';
import type { Gpt2Tokenizer } from '../data/gpt2.js';
import type { Activation } from '../nn/feedforward.js';
import { Gpt } from '../models/gpt.js';
import { validateGptConfig, type GptConfig } from '../models/gpt-config.js';
import type { StateEntry } from '../nn/module.js';
import { configBool, configChoice, configInt, configNumber, readHfConfig, readHfWeights, transposed, writeHfDir, type HfConfig, type HfTensors } from './hf.js';
import type { SafetensorsInput } from './safetensors.js';
import type { NonfiniteOptions } from './validate.js';

/** HF's activation_function names and ours ('gelu_new' and 'gelu_pytorch_tanh' are the tanh approximation). */
const ACTIVATIONS: Record<string, Activation> = { gelu_new: 'gelu-tanh', gelu_pytorch_tanh: 'gelu-tanh', gelu: 'gelu', relu: 'relu' };

/** Our parameter name -> GPT-2's name (without `transformer.`) and whether the stored matrix is transposed (Conv1D). */
export function toHfGpt2Name(name: string): { name: string; transpose: boolean } {
  const rules: Array<[RegExp, string, boolean]> = [
    [/^h\.(\d+)\.norm1\./, 'h.$1.ln_1.', false],
    [/^h\.(\d+)\.norm2\./, 'h.$1.ln_2.', false],
    [/^h\.(\d+)\.self_attn\.in_proj_weight$/, 'h.$1.attn.c_attn.weight', true],
    [/^h\.(\d+)\.self_attn\.in_proj_bias$/, 'h.$1.attn.c_attn.bias', false],
    [/^h\.(\d+)\.self_attn\.out_proj\.weight$/, 'h.$1.attn.c_proj.weight', true],
    [/^h\.(\d+)\.self_attn\.out_proj\.bias$/, 'h.$1.attn.c_proj.bias', false],
    [/^h\.(\d+)\.feed_forward\.linear1\.weight$/, 'h.$1.mlp.c_fc.weight', true],
    [/^h\.(\d+)\.feed_forward\.linear1\.bias$/, 'h.$1.mlp.c_fc.bias', false],
    [/^h\.(\d+)\.feed_forward\.linear2\.weight$/, 'h.$1.mlp.c_proj.weight', true],
    [/^h\.(\d+)\.feed_forward\.linear2\.bias$/, 'h.$1.mlp.c_proj.bias', false],
  ];
  for (const [pattern, to, transpose] of rules) if (pattern.test(name)) return { name: name.replace(pattern, to), transpose };
  return { name, transpose: false }; // wte, wpe, ln_f, lm_head keep their names
}

/** GPT2Config switches that change the attention's maths, with the only value our GPT computes (scores / sqrt(d_k), eq. 1). */
const FIXED_SWITCHES = { scale_attn_weights: true, scale_attn_by_inverse_layer_idx: false } as const;

/** A GptConfig from config.json's HF keys (n_layer, n_head, n_embd, vocab_size, n_positions, layer_norm_epsilon, ...). */
export function gptConfigFromHf(c: HfConfig): GptConfig {
  for (const [key, value] of Object.entries(FIXED_SWITCHES)) {
    if (configBool(c, key, value) !== value) throw new Error(`${c.source}: '${key}': ${!value} is not supported (aiayn's GPT scales attention scores by 1/sqrt(d_k) only)`);
  }
  const dModel = configInt(c, 'n_embd');
  const config: GptConfig = {
    vocabSize: configInt(c, 'vocab_size'), maxLen: configInt(c, 'n_positions'), layers: configInt(c, 'n_layer'), dModel,
    h: configInt(c, 'n_head'), dFF: configInt(c, 'n_inner', 4 * dModel),
    dropout: configNumber(c, 'resid_pdrop', 0.1), attentionDropout: configNumber(c, 'attn_pdrop', 0.1),
    normFirst: true, finalNorm: true, layerNormEps: configNumber(c, 'layer_norm_epsilon', 1e-5),
    activation: ACTIVATIONS[configChoice(c, 'activation_function', Object.keys(ACTIVATIONS), 'gelu_new')]!,
    tiedHead: configBool(c, 'tie_word_embeddings', true), seed: 0,
  };
  try { validateGptConfig(config); } catch (err) { throw new Error(`${c.source}: ${(err as Error).message}`); }
  return config;
}

/** config.json's HF keys for a GPT-2-style config (pre-LN with a final LayerNorm). */
export function hfConfigFromGpt(c: GptConfig): Record<string, unknown> {
  if (!c.normFirst || !c.finalNorm) throw new Error('GPT-2 checkpoints hold pre-LN models with a final LayerNorm; this config is GPT-1 style (post-LN)');
  const activation = Object.entries(ACTIVATIONS).find(([, ours]) => ours === c.activation)![0];
  return {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: c.vocabSize, n_positions: c.maxLen, n_ctx: c.maxLen,
    n_embd: c.dModel, n_layer: c.layers, n_head: c.h, n_inner: c.dFF === 4 * c.dModel ? null : c.dFF, activation_function: activation,
    resid_pdrop: c.dropout, embd_pdrop: c.dropout, attn_pdrop: c.attentionDropout, layer_norm_epsilon: c.layerNormEps,
    tie_word_embeddings: c.tiedHead, bos_token_id: c.vocabSize - 1, eos_token_id: c.vocabSize - 1,
  };
}

/** Copies a checkpoint's tensors (names without `transformer.`) into the model; one error lists every problem. */
export function loadGpt2Weights(model: Gpt, weights: HfTensors): void {
  weights.ignore(/^h\.\d+\.attn\.(bias|masked_bias)$/);
  if (model.lmHead === null) weights.ignore(/^lm_head\.weight$/); // tied: wte is the head
  const dict = new Map<string, StateEntry>();
  for (const [ours, t] of model.stateDict()) {
    const { name, transpose } = toHfGpt2Name(ours);
    const [rows, cols] = t.shape as [number, number];
    const data = weights.take(name, transpose ? [cols, rows] : t.shape);
    if (data !== null) dict.set(ours, { shape: t.shape, data: transpose ? transposed(data, cols, rows) : data });
  }
  weights.finish();
  model.loadStateDict(dict);
}

/** The model's tensors under GPT-2's names with `transformer.` (Conv1D layout); lm_head.weight only when untied. */
export async function gpt2Tensors(model: Gpt): Promise<Record<string, SafetensorsInput>> {
  const out: Record<string, SafetensorsInput> = {};
  for (const [ours, t] of model.stateDict()) {
    const { name, transpose } = toHfGpt2Name(ours);
    const data = (await t.data()) as Float32Array;
    const [rows, cols] = t.shape as [number, number];
    const key = name.startsWith('lm_head.') ? name : `transformer.${name}`;
    out[key] = transpose ? { dtype: 'F32', shape: [cols, rows], data: transposed(data, rows, cols) } : { dtype: 'F32', shape: [...t.shape], data };
  }
  return out;
}

/** Loads an HF GPT-2 directory (config.json + model.safetensors) into a new model in eval mode. */
export function loadHfGpt2(dir: string, options: NonfiniteOptions = {}): Gpt {
  const model = new Gpt(gptConfigFromHf(readHfConfig(dir))).eval();
  loadGpt2Weights(model, readHfWeights(dir, 'transformer.', options));
  return model;
}

/** Writes an HF GPT-2 directory's config.json and model.safetensors and, given a tokenizer, vocab.json, merges.txt and tokenizer.json (each atomically). */
export async function saveHfGpt2(dir: string, model: Gpt, tokenizer?: Gpt2Tokenizer): Promise<void> {
  writeHfDir(dir, hfConfigFromGpt(model.config), await gpt2Tensors(model));
  if (tokenizer !== undefined) saveGpt2TokenizerFiles(dir, tokenizer);
}

/** Writes a GPT-2 tokenizer as Hugging Face's vocab.json, merges.txt and tokenizer.json into dir (each atomically); returns their names. */
export function saveGpt2TokenizerFiles(dir: string, tokenizer: Gpt2Tokenizer): string[] {
  writeFileAtomicSync(join(dir, 'vocab.json'), JSON.stringify(tokenizer.vocabObject()));
  writeFileAtomicSync(join(dir, 'merges.txt'), tokenizer.mergesText());
  writeFileAtomicSync(join(dir, 'tokenizer.json'), tokenizer.toTokenizerJson());
  return ['vocab.json', 'merges.txt', 'tokenizer.json'];
}
