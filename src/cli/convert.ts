// `aiayn convert`: moves weights between PyTorch's translation-tutorial state dict (safetensors) and aiayn.

import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/files.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import { readModelConfig, saveWeights, type ModelDirConfig } from '../io/model-dir.js';
import { loadTorchStateDict, toTorchStateDict } from '../io/torch-names.js';
import { makeConfig, PRESETS, type PresetName, type TransformerConfig } from '../models/config.js';
import { Transformer } from '../models/transformer.js';
import { loadWeights } from '../io/model-dir.js';
import { CliError, getFlag, getString, parseArgs } from './args.js';

const HELP = `usage: aiayn convert --from torch WEIGHTS.safetensors --config CONFIG.json -o MODEL_DIR [--tokenizer BPE.json]
       aiayn convert --to torch --model MODEL_DIR -o WEIGHTS.safetensors

CONFIG.json is a TransformerConfig (see docs), optionally {"preset": "small", ...overrides}.`;

/** Reads a model config file: a full TransformerConfig, or a preset name plus overrides. */
function readConfig(path: string): TransformerConfig {
  let json: Record<string, unknown>;
  try { json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>; } catch (err) { throw new CliError(`--config ${path}: ${(err as Error).message}`); }
  const { preset = 'small', ...rest } = json;
  if (typeof preset !== 'string' || !(preset in PRESETS)) throw new CliError(`--config ${path}: unknown preset '${String(preset)}'`);
  try {
    return makeConfig(preset as PresetName, rest as Partial<TransformerConfig>);
  } catch (err) {
    throw new CliError(`--config ${path}: ${(err as Error).message}`);
  }
}

/** Runs `aiayn convert`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['help'], aliases: { '-o': 'out', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const out = getString(args, 'out');
  if (out === undefined) throw new CliError('-o is required');
  const from = getString(args, 'from');
  const to = getString(args, 'to');
  if (from === 'torch') {
    const weights = args.positionals[0];
    const configPath = getString(args, 'config');
    if (weights === undefined || configPath === undefined) throw new CliError('--from torch needs WEIGHTS.safetensors and --config CONFIG.json');
    const model = new Transformer(readConfig(configPath));
    try {
      loadTorchStateDict(model, loadSafetensors(weights).tensors, { strict: true });
    } catch (err) {
      throw new CliError(`${weights}: ${(err as Error).message}`);
    }
    mkdirSync(out, { recursive: true });
    const config: ModelDirConfig = { format: 'aiayn-model', version: 1, model: model.config };
    await writeFileAtomic(join(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    await saveWeights(join(out, 'weights.safetensors'), model);
    const tokenizer = getString(args, 'tokenizer');
    if (tokenizer !== undefined) copyFileSync(tokenizer, join(out, 'tokenizer.json'));
    console.log(`converted ${weights} into ${out}`);
    return 0;
  }
  if (to === 'torch') {
    const dir = getString(args, 'model');
    if (dir === undefined) throw new CliError('--to torch needs --model MODEL_DIR');
    let model: Transformer;
    try {
      model = new Transformer(readModelConfig(dir).model);
      const weights = join(dir, 'weights.safetensors');
      if (!existsSync(weights)) throw new Error(`${dir}: weights.safetensors is missing`);
      loadWeights(weights, model);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    saveSafetensors(out, Object.fromEntries(await toTorchStateDict(model)), { format: 'pt' });
    console.log(`wrote the PyTorch tutorial state dict of ${dir} to ${out}`);
    return 0;
  }
  throw new CliError('give --from torch or --to torch');
}
