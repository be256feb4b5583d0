// Exporting a GPT to ONNX (opset 17), as Hugging Face Optimum lays out decoder-only models: decoder_model.onnx and
// decoder_with_past_model.onnx (gpt-graphs.ts), a config.json naming every input and output with its dynamic
// axes, and the tokenizer: a Hugging Face directory's tokenizer files are copied, GPT-2's BPE of an aiayn directory
// is written as vocab.json, merges.txt and tokenizer.json, a character tokenizer's characters go in config.json.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gpt2Tokenizer } from '../../data/gpt2.js';
import { writeFileAtomic } from '../../data/files.js';
import type { Gpt } from '../../models/gpt.js';
import type { GptConfig } from '../../models/gpt-config.js';
import { loadGptDir, readGptDirConfig, type TokenizerSpec } from '../gpt-dir.js';
import { isHfDir, readHfConfig } from '../hf.js';
import { gptConfigFromHf, saveGpt2TokenizerFiles } from '../hf-gpt2.js';
import { OPSET } from './graph.js';
import { gptGraph } from './gpt-graphs.js';
import { hostWeights, prepareOutDir, writeGraphs, type GraphFile } from './write.js';

/** The graph files of a GPT export, by role. */
export const GPT_ONNX_FILES = { decoder: 'decoder_model.onnx', decoderWithPast: 'decoder_with_past_model.onnx' } as const;

/** A Hugging Face directory's tokenizer files, copied where present. */
const HF_TOKENIZER_FILES = ['tokenizer.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];

/** What a GPT export's config.json holds. */
export interface OnnxGptExportConfig {
  format: 'aiayn-onnx-gpt';
  version: 1;
  opset: number;
  model: GptConfig;
  /** How the graphs number positions (0 at padding); the context holds model.maxLen positions. */
  positionIds: 'cumsum(attention_mask) - 1';
  /** The tokenizer (a character tokenizer's characters, or GPT-2's BPE), null for a model made in memory. */
  tokenizer: TokenizerSpec | null;
  /** The tokenizer files in the export directory. */
  tokenizerFiles: string[];
  graphs: Record<keyof typeof GPT_ONNX_FILES, GraphFile>;
}

/** What a GPT export writes besides the graphs: the tokenizer, and the Hugging Face directory to copy its files from. */
export interface GptExportExtras { tokenizer?: TokenizerSpec; hfDir?: string; source?: string; force?: boolean; }

/** Writes the tokenizer files into outDir: a Hugging Face directory's copied, else GPT-2's BPE when the spec names it. */
async function writeTokenizerFiles(outDir: string, extras: GptExportExtras): Promise<string[]> {
  const copied = extras.hfDir === undefined ? [] : HF_TOKENIZER_FILES.filter((f) => existsSync(join(extras.hfDir!, f)));
  for (const f of copied) await writeFileAtomic(join(outDir, f), readFileSync(join(extras.hfDir!, f)));
  if (copied.some((f) => f === 'tokenizer.json' || f === 'vocab.json') || extras.tokenizer?.type !== 'gpt2') return copied;
  return [...copied, ...saveGpt2TokenizerFiles(outDir, await Gpt2Tokenizer.bundled())]; // the bundled ranks, as loading uses
}

/** Exports an in-memory GPT into `outDir` (two graphs, config.json, tokenizer files); returns the config. */
export async function exportGptModelOnnx(model: Gpt, outDir: string, extras: GptExportExtras = {}): Promise<OnnxGptExportConfig> {
  prepareOutDir(outDir, extras.force ?? false);
  const weights = await hostWeights(model);
  const builders = { decoder: gptGraph(model.config, weights, false), decoderWithPast: gptGraph(model.config, weights, true) };
  const graphs = await writeGraphs(outDir, GPT_ONNX_FILES, builders, (role) => `aiayn GPT (${role})${extras.source === undefined ? '' : `, exported from ${extras.source}`}`);
  const config: OnnxGptExportConfig = {
    format: 'aiayn-onnx-gpt', version: 1, opset: OPSET, model: model.config, positionIds: 'cumsum(attention_mask) - 1',
    tokenizer: extras.tokenizer ?? null, tokenizerFiles: await writeTokenizerFiles(outDir, extras), graphs,
  };
  await writeFileAtomic(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return config;
}

/** Exports an aiayn GPT directory or a Hugging Face GPT-2 directory into `outDir`; returns the written config. */
export async function exportGptOnnx(modelDir: string, outDir: string, opts: { force?: boolean } = {}): Promise<OnnxGptExportConfig> {
  const hf = isHfDir(modelDir);
  if (hf) gptConfigFromHf(readHfConfig(modelDir)); // config errors come before anything is written
  const tokenizer: TokenizerSpec = hf ? { type: 'gpt2' } : readGptDirConfig(modelDir).tokenizer;
  prepareOutDir(outDir, opts.force ?? false);
  const { model } = await loadGptDir(modelDir);
  return exportGptModelOnnx(model, outDir, { tokenizer, hfDir: hf ? modelDir : undefined, source: modelDir, force: true });
}
