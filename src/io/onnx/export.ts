// Exporting a model directory to ONNX (opset 17): for a translation model encoder_model.onnx, decoder_model.onnx
// and decoder_with_past_model.onnx (src/io/onnx/graphs.ts), a config.json naming every input and output with its
// dynamic axes, and the tokenizer; GPT directories (aiayn's and Hugging Face GPT-2's) go to gpt-export.ts. Every
// file is written atomically; an existing non-empty directory is refused unless `force` is given.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOS_ID, EOS_ID, PAD_ID, UNK_ID, type Bpe } from '../../data/bpe.js';
import { writeFileAtomic } from '../../data/files.js';
import { showValue } from '../../data/show.js';
import type { TransformerConfig } from '../../models/config.js';
import type { Transformer } from '../../models/transformer.js';
import { isHfDir, readHfConfig } from '../hf.js';
import { loadModelDir, readModelConfig } from '../model-dir.js';
import { OPSET } from './graph.js';
import { exportGptOnnx, type OnnxGptExportConfig } from './gpt-export.js';
import { decoderGraph, encoderGraph } from './graphs.js';
import { hostWeights, prepareOutDir, writeGraphs, type GraphFile } from './write.js';

/** The graph files of an export, by role. */
export const ONNX_FILES = { encoder: 'encoder_model.onnx', decoder: 'decoder_model.onnx', decoderWithPast: 'decoder_with_past_model.onnx' } as const;

/** What the export's config.json holds. */
export interface OnnxExportConfig {
  format: 'aiayn-onnx';
  version: 1;
  opset: number;
  model: TransformerConfig;
  srcLang?: string;
  tgtLang?: string;
  /** The tokenizer's file, null when the export has none (a model made in memory, e.g. by a benchmark). */
  tokenizer: 'tokenizer.json' | null;
  specialTokens: { pad: number; bos: number; eos: number; unk: number };
  /** Each graph's file, inputs and outputs (symbolic dimensions are dynamic axes). */
  graphs: Record<keyof typeof ONNX_FILES, GraphFile>;
}

/** Throws, naming the feature, when ONNX export does not support a model config. */
export function checkExportable(config: TransformerConfig): void {
  if (config.attention !== 'scaled-dot') {
    throw new Error(`attention '${config.attention}' cannot be exported to ONNX: the exporter writes scaled dot-product attention (eq. 1) only`);
  }
}

/** What an export writes besides the graphs: the tokenizer and the language codes, where known. */
export interface OnnxExportExtras { tokenizer?: Bpe; srcLang?: string; tgtLang?: string; source?: string; force?: boolean; }

/** Exports an in-memory model into `outDir` (graphs, config.json and, when given, the tokenizer); returns the config. */
export async function exportModelOnnx(model: Transformer, outDir: string, extras: OnnxExportExtras = {}): Promise<OnnxExportConfig> {
  checkExportable(model.config);
  prepareOutDir(outDir, extras.force ?? false);
  const weights = await hostWeights(model);
  const builders = {
    encoder: encoderGraph(model.config, weights),
    decoder: decoderGraph(model.config, weights, false),
    decoderWithPast: decoderGraph(model.config, weights, true),
  };
  const graphs = await writeGraphs(outDir, ONNX_FILES, builders, (role) => `aiayn Transformer (${role})${extras.source === undefined ? '' : `, exported from ${extras.source}`}`);
  if (extras.tokenizer !== undefined) await extras.tokenizer.save(join(outDir, 'tokenizer.json'));
  const config: OnnxExportConfig = {
    format: 'aiayn-onnx', version: 1, opset: OPSET, model: model.config, srcLang: extras.srcLang, tgtLang: extras.tgtLang,
    tokenizer: extras.tokenizer === undefined ? null : 'tokenizer.json', specialTokens: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID, unk: UNK_ID }, graphs,
  };
  await writeFileAtomic(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return config;
}

/**
 * What a model directory holds: a GPT (config.json of format "aiayn-gpt", or a Hugging Face directory of model_type
 * gpt2) or else a translation model; other Hugging Face model types are refused by name.
 */
function exportedKind(modelDir: string): 'gpt' | 'translation' {
  if (isHfDir(modelDir)) {
    const { values, source } = readHfConfig(modelDir);
    const type = values['model_type'];
    if (type === undefined || type === 'gpt2') return 'gpt';
    throw new Error(`${source}: Hugging Face model_type ${showValue(type)} cannot be exported to ONNX (aiayn exports GPT-2 and its own GPT and translation models)`);
  }
  try { return (JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as { format?: unknown }).format === 'aiayn-gpt' ? 'gpt' : 'translation'; } catch { return 'translation'; }
}

/** Exports the model directory `modelDir` (config, tokenizer, weights; a translation model or a GPT) into `outDir`; returns the written config. */
export async function exportOnnx(modelDir: string, outDir: string, opts: { force?: boolean } = {}): Promise<OnnxExportConfig | OnnxGptExportConfig> {
  if (exportedKind(modelDir) === 'gpt') return exportGptOnnx(modelDir, outDir, opts);
  const dirConfig = readModelConfig(modelDir);
  checkExportable(dirConfig.model);
  prepareOutDir(outDir, opts.force ?? false);
  const { model, tokenizer } = await loadModelDir(modelDir);
  return exportModelOnnx(model, outDir, { tokenizer, srcLang: dirConfig.srcLang, tgtLang: dirConfig.tgtLang, source: modelDir, force: true });
}
