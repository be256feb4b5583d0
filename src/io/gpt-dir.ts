// GPT model directories (Radford et al. 2018/2019 models, src/models/gpt.ts): aiayn's own (config.json with format
// "aiayn-gpt", the GptConfig and the tokenizer; weights.safetensors under our names) and Hugging Face GPT-2
// directories (hf-gpt2.ts), whose tokenizer is tokenizer.json, else vocab.json + merges.txt, else the bundled GPT-2
// ranks. Loading says which file is missing or wrong.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CharTokenizer } from '../data/chars.js';
import { writeFileAtomic } from '../data/files.js';
import { Gpt2Tokenizer } from '../data/gpt2.js';
import { Gpt } from '../models/gpt.js';
import { validateGptConfig, type GptConfig } from '../models/gpt-config.js';
import { isHfDir, readHfConfig } from './hf.js';
import { gptConfigFromHf, loadHfGpt2 } from './hf-gpt2.js';
import { loadWeights, saveWeights } from './model-dir.js';
import type { NonfiniteOptions } from './validate.js';

/** The tokenizer of a GPT directory: characters, or GPT-2's byte-level BPE (bundled ranks). */
export type TokenizerSpec = { type: 'char'; chars: string } | { type: 'gpt2' };

/** A tokenizer as generation and training use it. */
export type LmTokenizer = CharTokenizer | Gpt2Tokenizer;

/** What an aiayn GPT directory's config.json holds. */
export interface GptDirConfig {
  format: 'aiayn-gpt';
  version: 1;
  model: GptConfig;
  tokenizer: TokenizerSpec;
  /** The settings the model was trained with (informational). */
  training?: Record<string, unknown>;
}

/** A loaded GPT directory. */
export interface LoadedGpt { model: Gpt; tokenizer: LmTokenizer; layout: 'aiayn' | 'huggingface'; }

/** The tokenizer a spec describes. */
export async function tokenizerOf(spec: TokenizerSpec): Promise<LmTokenizer> {
  return spec.type === 'char' ? new CharTokenizer(spec.chars) : Gpt2Tokenizer.bundled();
}

/** Saves config.json and weights.safetensors into dir (each atomically). */
export async function saveGptDir(dir: string, model: Gpt, tokenizer: TokenizerSpec, training?: Record<string, unknown>): Promise<void> {
  const config: GptDirConfig = { format: 'aiayn-gpt', version: 1, model: model.config, tokenizer, ...(training === undefined ? {} : { training }) };
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  await saveWeights(join(dir, 'weights.safetensors'), model);
}

/** Reads and checks an aiayn GPT directory's config.json. */
export function readGptDirConfig(dir: string): GptDirConfig {
  const path = join(dir, 'config.json');
  let c: Partial<GptDirConfig>;
  try { c = JSON.parse(readFileSync(path, 'utf8')) as Partial<GptDirConfig>; } catch (err) { throw new Error(`${path}: cannot read: ${(err as Error).message}`); }
  const t = c.tokenizer;
  if (c.format !== 'aiayn-gpt' || c.version !== 1 || typeof c.model !== 'object' || c.model === null
    || !(t?.type === 'gpt2' || (t?.type === 'char' && typeof t.chars === 'string'))) {
    throw new Error(`${path}: not an aiayn GPT config (expected format "aiayn-gpt", version 1, a "model" object and a "tokenizer" of type "char" or "gpt2")`);
  }
  try { validateGptConfig(c.model); } catch (err) { throw new Error(`${path}: ${(err as Error).message}`); }
  return c as GptDirConfig;
}

/** An HF directory's tokenizer: tokenizer.json, else vocab.json + merges.txt, else the bundled GPT-2 ranks. */
export async function loadHfTokenizer(dir: string): Promise<Gpt2Tokenizer> {
  if (existsSync(join(dir, 'tokenizer.json'))) return Gpt2Tokenizer.loadTokenizerJson(join(dir, 'tokenizer.json'));
  if (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'))) return Gpt2Tokenizer.loadVocabMerges(join(dir, 'vocab.json'), join(dir, 'merges.txt'));
  return Gpt2Tokenizer.bundled();
}

/** Fails when the tokenizer has ids the model cannot embed. */
function checkVocab(dir: string, tokenizer: LmTokenizer, config: GptConfig): void {
  if (tokenizer.vocabSize > config.vocabSize) throw new Error(`${dir}: the tokenizer has ${tokenizer.vocabSize} tokens, more than the model's vocabulary of ${config.vocabSize}`);
}

/** The parameter count a GPT config implies (embeddings, blocks, final norm, untied head). */
export function gptParameterCount(c: GptConfig): number {
  const d = c.dModel;
  const block = 4 * d * d + 4 * d + 2 * d * c.dFF + c.dFF + d + 4 * d;
  return (c.vocabSize + c.maxLen) * d + c.layers * block + (c.finalNorm ? 2 * d : 0) + (c.tiedHead ? 0 : c.vocabSize * d);
}

/** Fails before allocating when a weights file is too small for the config (at least 2 bytes a parameter). */
function checkWeightsHold(c: GptConfig, weights: string, configPath: string): void {
  const bytes = statSync(weights).size;
  const params = gptParameterCount(c);
  if (2 * params > bytes) throw new Error(`${configPath} declares ${params} parameters, but ${weights} holds only ${bytes} bytes: the config's sizes disagree with the weights`);
}

/** Loads an aiayn GPT directory or a Hugging Face GPT-2 directory, in eval mode, with its tokenizer. */
export async function loadGptDir(dir: string, options: NonfiniteOptions = {}): Promise<LoadedGpt> {
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`${dir} is not a model directory: config.json is missing`);
  if (isHfDir(dir)) {
    const config = gptConfigFromHf(readHfConfig(dir));
    checkWeightsHold(config, join(dir, 'model.safetensors'), join(dir, 'config.json'));
    const tokenizer = await loadHfTokenizer(dir);
    checkVocab(dir, tokenizer, config);
    return { model: loadHfGpt2(dir, options), tokenizer, layout: 'huggingface' };
  }
  const config = readGptDirConfig(dir);
  const weights = join(dir, 'weights.safetensors');
  if (!existsSync(weights)) throw new Error(`${dir}: weights.safetensors is missing`);
  checkWeightsHold(config.model, weights, join(dir, 'config.json'));
  const tokenizer = await tokenizerOf(config.tokenizer);
  checkVocab(dir, tokenizer, config.model);
  const model = new Gpt(config.model);
  loadWeights(weights, model, options);
  return { model: model.eval(), tokenizer, layout: 'aiayn' };
}
