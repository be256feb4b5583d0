// Hugging Face checkpoint directories of BERT (Devlin et al. 2019) and RoBERTa (Liu et al. 2019): config.json
// with HF's keys and model.safetensors with HF's names (src/io/hf-bert-names.ts). Loading accepts the old
// TF-converted LayerNorm names (gamma / beta), a tied decoder present or absent, a trunk saved without its
// `bert.` / `roberta.` prefix, and NSP / pooler tensors that a masked LM does not use; every error names the
// tensor that is missing or disagrees with config.json.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/files.js';
import { showValue } from '../data/show.js';
import { Bert } from '../models/bert.js';
import { validateBertConfig, type BertConfig } from '../models/bert-config.js';
import { hfNamesOf, hfPrefix, toHfTensors, type HostTensor } from './hf-bert-names.js';
import { loadSafetensors, saveSafetensors, type SafetensorsInput, type SafetensorsTensor } from './safetensors.js';
import { checkFiniteWeights } from './validate.js';

/** A loaded HF directory: the model, its config and its label names (classifiers). */
export interface LoadedBert { model: Bert; config: BertConfig; labels: string[]; }

/** Options of loadHfBert. */
export interface LoadHfBertOptions {
  /** Build a classifier over these labels even when the checkpoint is a masked LM (fine-tuning): its head starts fresh. */
  labels?: readonly string[];
  /** Seed of the initialisation and dropout of a fresh head (default 0). */
  seed?: number;
}

/** A BertConfig from config.json's HF keys; `source` names the file in errors. */
export function bertConfigFromHf(json: Record<string, unknown>, source: string, numLabels = 0): BertConfig {
  const num = (key: string, fallback?: number): number => {
    const v = json[key] ?? fallback;
    if (typeof v !== 'number') throw new Error(`${source}: "${key}" must be a number, got ${showValue(v)}`);
    return v;
  };
  const type = json['model_type'];
  if (type !== 'bert' && type !== 'roberta') throw new Error(`${source}: model_type must be "bert" or "roberta", got ${showValue(type)}`);
  const act = json['hidden_act'] ?? 'gelu';
  if (act !== 'gelu' && act !== 'relu') throw new Error(`${source}: hidden_act ${showValue(act)} is not supported (only "gelu", the erf form, and "relu")`);
  const pos = json['position_embedding_type'] ?? 'absolute';
  if (pos !== 'absolute') throw new Error(`${source}: position_embedding_type ${showValue(pos)} is not supported (only "absolute")`);
  const config: BertConfig = {
    variant: type, vocabSize: num('vocab_size'), hiddenSize: num('hidden_size'), numLayers: num('num_hidden_layers'),
    numHeads: num('num_attention_heads'), intermediateSize: num('intermediate_size'), maxPositions: num('max_position_embeddings'),
    typeVocabSize: num('type_vocab_size', 2), layerNormEps: num('layer_norm_eps', 1e-12), hiddenAct: act,
    padId: num('pad_token_id', type === 'roberta' ? 1 : 0), dropout: num('hidden_dropout_prob', 0.1),
    attentionDropout: num('attention_probs_dropout_prob', 0.1), numLabels, seed: 0,
  };
  try {
    validateBertConfig(config);
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
  return config;
}

/** config.json's HF keys for a config (and label names of a classifier). */
export function bertConfigToHf(c: BertConfig, labels: readonly string[] = []): Record<string, unknown> {
  const Name = c.variant === 'bert' ? 'Bert' : 'Roberta';
  const json: Record<string, unknown> = {
    architectures: [`${Name}${c.numLabels > 0 ? 'ForSequenceClassification' : 'ForMaskedLM'}`], model_type: c.variant,
    vocab_size: c.vocabSize, hidden_size: c.hiddenSize, num_hidden_layers: c.numLayers, num_attention_heads: c.numHeads,
    intermediate_size: c.intermediateSize, max_position_embeddings: c.maxPositions, type_vocab_size: c.typeVocabSize,
    layer_norm_eps: c.layerNormEps, hidden_act: c.hiddenAct, pad_token_id: c.padId, hidden_dropout_prob: c.dropout,
    attention_probs_dropout_prob: c.attentionDropout, position_embedding_type: 'absolute', tie_word_embeddings: true,
  };
  if (c.numLabels > 0) {
    json['id2label'] = Object.fromEntries(labels.map((l, i) => [String(i), l]));
    json['label2id'] = Object.fromEntries(labels.map((l, i) => [l, i]));
  }
  return json;
}

/** Old TF-converted checkpoints call LayerNorm's weight and bias gamma and beta. */
function legacyName(name: string): string {
  return name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
}

/** HF tensors a model of this config may leave unused: NSP head, pooler of a masked LM, tied decoder, position ids. */
function ignorable(name: string, config: BertConfig): boolean {
  if (/(^|\.)position_ids$/.test(name) || /^cls\.seq_relationship\./.test(name) || /(^cls\.predictions|^lm_head)\.decoder\.(weight|bias)$/.test(name)) return true;
  if (config.numLabels === 0) return /^(bert\.)?pooler\./.test(name);
  return /^(cls\.predictions|lm_head)\./.test(name); // fine-tuning a masked LM: its MLM head is dropped
}

/** Copies HF tensors into the model, naming every missing or mis-shaped tensor; returns our names started fresh. */
export function loadHfTensors(model: Bert, tensors: ReadonlyMap<string, SafetensorsTensor>, source: string, allowFreshHead = false): string[] {
  const c = model.config;
  const prefix = hfPrefix(c);
  const unprefixed = ![...tensors.keys()].some((n) => n.startsWith(prefix)); // a bare BertModel / RobertaModel
  const lookup = (n: string): [string, SafetensorsTensor] | undefined => {
    for (const cand of [n, legacyName(n)].map((x) => (unprefixed && x.startsWith(prefix) ? x.slice(prefix.length) : x))) {
      const t = tensors.get(cand);
      if (t !== undefined) return [cand, t];
    }
    return undefined;
  };
  const used = new Set<string>();
  const missing: string[] = [];
  const misShaped: string[] = [];
  const fresh: string[] = [];
  const dict = new Map<string, HostTensor>();
  for (const [name, p] of model.stateDict()) {
    const names = hfNamesOf(name, c);
    const partShape = [p.shape[0]! / names.length, ...p.shape.slice(1)];
    const parts = names.map((n) => lookup(n));
    for (const x of parts) if (x !== undefined) used.add(x[0]);
    if (parts.some((x) => x === undefined)) {
      if (allowFreshHead && /^(pooler|classifier)\./.test(name)) { fresh.push(name); continue; }
      names.forEach((n, k) => { if (parts[k] === undefined) missing.push(n); });
      continue;
    }
    const wrong = parts.filter((x) => x![1].shape.join() !== partShape.join());
    for (const x of wrong) misShaped.push(`${x![0]} is [${x![1].shape.join(', ')}], config implies [${partShape.join(', ')}]`);
    if (wrong.length > 0) continue;
    const data = new Float32Array(p.size);
    let at = 0;
    for (const x of parts) { data.set(x![1].data, at); at += x![1].data.length; }
    dict.set(name, { shape: p.shape, data });
  }
  const unexpected = [...tensors.keys()].filter((n) => !used.has(n) && !ignorable(n, c));
  const problems = [
    missing.length > 0 ? `missing tensors: ${missing.join(', ')}` : '',
    misShaped.length > 0 ? `tensors that disagree with config.json: ${misShaped.join('; ')}` : '',
    unexpected.length > 0 ? `tensors this ${c.variant} model does not have: ${unexpected.join(', ')}` : '',
  ].filter((x) => x !== '');
  if (problems.length > 0) throw new Error(`${source}: ${problems.join('; ')}`);
  model.loadStateDict(dict, { strict: false });
  return fresh;
}

/** Loads config.json and model.safetensors of an HF BERT / RoBERTa directory. */
export function loadHfBert(dir: string, options: LoadHfBertOptions = {}): LoadedBert {
  const configPath = join(dir, 'config.json');
  const weightsPath = join(dir, 'model.safetensors');
  for (const p of [configPath, weightsPath]) if (!existsSync(p)) throw new Error(`${dir}: no ${p.slice(dir.length + 1)} (expected a Hugging Face directory with config.json and model.safetensors)`);
  const json = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  const stored = Object.values((json['id2label'] as Record<string, string> | undefined) ?? {});
  const isClassifier = Array.isArray(json['architectures']) && (json['architectures'] as unknown[]).some((a) => String(a).endsWith('ForSequenceClassification'));
  const labels = options.labels !== undefined ? [...options.labels] : isClassifier ? stored : [];
  const config = { ...bertConfigFromHf(json, configPath, labels.length), seed: options.seed ?? 0 };
  const model = new Bert(config);
  const { tensors } = loadSafetensors(weightsPath);
  checkFiniteWeights(tensors, weightsPath);
  loadHfTensors(model, tensors, weightsPath, options.labels !== undefined);
  return { model, config, labels };
}

/** Writes config.json (HF keys) and model.safetensors (HF names, decoder tied hence absent) into dir (made if absent), each atomically. */
export async function saveHfBert(dir: string, model: Bert, labels: readonly string[] = []): Promise<void> {
  if (model.config.numLabels > 0 && labels.length !== model.config.numLabels) throw new Error(`saveHfBert: ${labels.length} label names for ${model.config.numLabels} labels`);
  const ours: Array<[string, HostTensor]> = [];
  for (const [name, t] of model.stateDict()) ours.push([name, { shape: t.shape, data: (await t.data()) as Float32Array }]);
  const out: Record<string, SafetensorsInput> = {};
  for (const [name, t] of toHfTensors(model.config, ours)) out[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  mkdirSync(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(bertConfigToHf(model.config, labels), null, 2) + '\n');
  saveSafetensors(join(dir, 'model.safetensors'), out, { format: 'pt' });
}
