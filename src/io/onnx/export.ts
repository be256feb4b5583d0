// Exporting a model directory to ONNX (opset 17): encoder_model.onnx, decoder_model.onnx and
// decoder_with_past_model.onnx (src/io/onnx/graphs.ts), a config.json naming every input and output with its
// dynamic axes, and the tokenizer. Every file is written atomically; an existing non-empty directory is refused
// unless `force` is given.

import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BOS_ID, EOS_ID, PAD_ID, UNK_ID, type Bpe } from '../../data/bpe.js';
import { writeFileAtomic } from '../../data/files.js';
import type { TransformerConfig } from '../../models/config.js';
import type { Transformer } from '../../models/transformer.js';
import { loadModelDir, readModelConfig } from '../model-dir.js';
import type { HostWeights } from './blocks.js';
import { OPSET, type GraphBuilder, type ValueSpec } from './graph.js';
import { decoderGraph, encoderGraph } from './graphs.js';

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
  graphs: Record<keyof typeof ONNX_FILES, { file: string; inputs: ValueSpec[]; outputs: ValueSpec[] }>;
}

/** Throws, naming the feature, when ONNX export does not support a model config. */
export function checkExportable(config: TransformerConfig): void {
  if (config.attention !== 'scaled-dot') {
    throw new Error(`attention '${config.attention}' cannot be exported to ONNX: the exporter writes scaled dot-product attention (eq. 1) only`);
  }
}

/** Host copies of every parameter and buffer (the sinusoidal table `positional_encoding.pe` included), by name. */
async function hostWeights(model: Transformer): Promise<HostWeights> {
  const out = new Map<string, { data: Float32Array; shape: readonly number[] }>();
  for (const [name, t] of model.stateDict()) out.set(name, { data: (await t.data()) as Float32Array, shape: t.shape });
  for (const [name, t] of model.namedBuffers()) out.set(name, { data: (await t.data()) as Float32Array, shape: t.shape });
  return out;
}

/** Refuses an existing non-empty output directory unless force; creates it. */
function prepareOutDir(outDir: string, force: boolean): void {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw new Error(`output ${outDir} exists and is not a directory`);
    if (readdirSync(outDir).length > 0 && !force) throw new Error(`output directory ${outDir} exists and is not empty (give --force to write into it)`);
  }
  mkdirSync(outDir, { recursive: true });
}

/** What an export writes besides the graphs: the tokenizer and the language codes, where known. */
export interface OnnxExportExtras { tokenizer?: Bpe; srcLang?: string; tgtLang?: string; source?: string; force?: boolean; }

/** Exports an in-memory model into `outDir` (graphs, config.json and, when given, the tokenizer); returns the config. */
export async function exportModelOnnx(model: Transformer, outDir: string, extras: OnnxExportExtras = {}): Promise<OnnxExportConfig> {
  checkExportable(model.config);
  prepareOutDir(outDir, extras.force ?? false);
  const weights = await hostWeights(model);
  const builders: Record<keyof typeof ONNX_FILES, GraphBuilder> = {
    encoder: encoderGraph(model.config, weights),
    decoder: decoderGraph(model.config, weights, false),
    decoderWithPast: decoderGraph(model.config, weights, true),
  };
  const graphs = {} as OnnxExportConfig['graphs'];
  for (const [role, file] of Object.entries(ONNX_FILES) as Array<[keyof typeof ONNX_FILES, string]>) {
    const b = builders[role];
    await writeFileAtomic(join(outDir, file), b.encode(`aiayn Transformer (${role})${extras.source === undefined ? '' : `, exported from ${extras.source}`}`));
    graphs[role] = { file, inputs: b.inputs, outputs: b.outputs };
  }
  if (extras.tokenizer !== undefined) await extras.tokenizer.save(join(outDir, 'tokenizer.json'));
  const config: OnnxExportConfig = {
    format: 'aiayn-onnx', version: 1, opset: OPSET, model: model.config, srcLang: extras.srcLang, tgtLang: extras.tgtLang,
    tokenizer: extras.tokenizer === undefined ? null : 'tokenizer.json', specialTokens: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID, unk: UNK_ID }, graphs,
  };
  await writeFileAtomic(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return config;
}

/** Exports the model directory `modelDir` (config, tokenizer, weights) into `outDir`; returns the written config. */
export async function exportOnnx(modelDir: string, outDir: string, opts: { force?: boolean } = {}): Promise<OnnxExportConfig> {
  const dirConfig = readModelConfig(modelDir);
  checkExportable(dirConfig.model);
  prepareOutDir(outDir, opts.force ?? false);
  const { model, tokenizer } = await loadModelDir(modelDir);
  return exportModelOnnx(model, outDir, { tokenizer, srcLang: dirConfig.srcLang, tgtLang: dirConfig.tgtLang, source: modelDir, force: true });
}
