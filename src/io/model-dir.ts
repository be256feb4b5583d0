// A model directory: config.json (model + training settings), tokenizer.json, weights.safetensors (named as
// the PyTorch tutorial's state dict where the architecture allows, else our own names). Loading checks every
// piece and says which file is missing or wrong.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Bpe } from '../data/bpe.js';
import { writeFileAtomic } from '../data/files.js';
import { validateConfig, type TransformerConfig } from '../models/config.js';
import { Transformer } from '../models/transformer.js';
import type { Module } from '../nn/module.js';
import { loadSafetensors, saveSafetensors, type SafetensorsInput } from './safetensors.js';
import { checkFiniteWeights, checkModelFitsWeights, type NonfiniteOptions } from './validate.js';

/** What config.json holds. */
export interface ModelDirConfig {
  format: 'aiayn-model';
  version: 1;
  model: TransformerConfig;
  /** Source and target language codes, for messages and the CLI. */
  srcLang?: string;
  tgtLang?: string;
  /** The settings the model was trained with (informational). */
  training?: Record<string, unknown>;
}

/** A loaded model directory. */
export interface LoadedModel { model: Transformer; tokenizer: Bpe; config: ModelDirConfig; }

/** Our parameters as safetensors entries (host copies), by our names. */
export async function modelTensors(model: Module): Promise<Record<string, SafetensorsInput>> {
  const out: Record<string, SafetensorsInput> = {};
  for (const [name, t] of model.stateDict()) out[name] = { dtype: 'F32', shape: [...t.shape], data: (await t.data()) as Float32Array };
  return out;
}

/** Writes weights.safetensors atomically. */
export async function saveWeights(path: string, model: Module): Promise<void> {
  saveSafetensors(path, await modelTensors(model), { format: 'aiayn' });
}

/** Loads weights into a model (strict: names and shapes must match; finite unless allowed), naming the file on error. */
export function loadWeights(path: string, model: Module, options: NonfiniteOptions = {}): void {
  const { tensors } = loadSafetensors(path);
  checkFiniteWeights(tensors, path, options);
  try {
    model.loadStateDict(tensors, { strict: true });
  } catch (err) {
    throw new Error(`${path}: weights do not match the model config: ${(err as Error).message}`);
  }
}

/** Saves config, tokenizer and weights into dir (each file atomically). */
export async function saveModelDir(dir: string, model: Transformer, tokenizer: Bpe, extra: Omit<ModelDirConfig, 'format' | 'version' | 'model'> = {}): Promise<void> {
  const config: ModelDirConfig = { format: 'aiayn-model', version: 1, model: model.config, ...extra };
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  await tokenizer.save(join(dir, 'tokenizer.json'));
  await saveWeights(join(dir, 'weights.safetensors'), model);
}

/** Reads and checks config.json of a model directory. */
export function readModelConfig(dir: string): ModelDirConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(dir)) throw new Error(`model directory ${dir} does not exist`);
  if (!existsSync(path)) throw new Error(`${dir} is not a model directory: ${path} is missing`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${path}: not an aiayn model config (expected a JSON object)`);
  const c = json as Partial<ModelDirConfig>;
  if (c.format !== 'aiayn-model' || c.version !== 1 || typeof c.model !== 'object' || c.model === null) {
    throw new Error(`${path}: not an aiayn model config (expected format "aiayn-model", version 1, and a "model" object)`);
  }
  try {
    validateConfig(c.model);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  return c as ModelDirConfig;
}

/** Loads a model directory (config, tokenizer, weights), in eval mode, with clear errors for each file. */
export async function loadModelDir(dir: string, weightsFile = 'weights.safetensors', options: NonfiniteOptions = {}): Promise<LoadedModel> {
  const config = readModelConfig(dir);
  const tokPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokPath)) throw new Error(`${dir}: tokenizer.json is missing`);
  const tokenizer = await Bpe.load(tokPath);
  if (tokenizer.vocabSize !== config.model.srcVocab || tokenizer.vocabSize !== config.model.tgtVocab) {
    throw new Error(`${dir}: tokenizer has ${tokenizer.vocabSize} tokens but config.json says srcVocab ${config.model.srcVocab}, tgtVocab ${config.model.tgtVocab}`);
  }
  const weights = join(dir, weightsFile);
  if (!existsSync(weights)) throw new Error(`${dir}: ${weightsFile} is missing`);
  checkModelFitsWeights(config.model, statSync(weights).size, join(dir, 'config.json'), weights);
  const model = new Transformer(config.model);
  loadWeights(weights, model, options);
  model.eval();
  return { model, tokenizer, config };
}
