// Options shared by `aiayn train-mlm` and `aiayn finetune` (BERT, Devlin et al. 2019, Appendix A.2): the
// optimisation and bookkeeping settings, kept in DIR/train-settings.json so that --resume continues a run as begun.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/files.js';
import { applyNumbers, CliError, getFlag, getNumber, getString, requireOut, type ParsedArgs } from './args.js';

/** The settings of an encoder run (everything but the data and the model directory). */
export interface EncoderSettings {
  preset: string; maxSteps: number; maxMinutes: number; lr: number; warmup: number; weightDecay: number; clipNorm: number;
  batchSize: number; maxLen: number; evalEvery: number; checkpointEvery: number; keepCheckpoints: number; seed: number;
  vocabSize: number; [extra: string]: unknown;
}

/** The flags of the settings, for the help texts. */
export const ENCODER_FLAGS_HELP = `  --max-steps N      --max-minutes M   --lr F            --warmup N        --weight-decay F
  --batch-size N     --max-len N       --eval-every N    --checkpoint-every N  --keep-checkpoints N
  --seed N           --clip NORM       --dropout P
  --resume           continue the run in --out from its newest checkpoint (settings from train-settings.json)
  --quiet            no progress bar`;

const NUMERIC: Array<[string, keyof EncoderSettings]> = [
  ['max-steps', 'maxSteps'], ['max-minutes', 'maxMinutes'], ['lr', 'lr'], ['warmup', 'warmup'], ['weight-decay', 'weightDecay'],
  ['clip', 'clipNorm'], ['batch-size', 'batchSize'], ['max-len', 'maxLen'], ['eval-every', 'evalEvery'],
  ['checkpoint-every', 'checkpointEvery'], ['keep-checkpoints', 'keepCheckpoints'], ['seed', 'seed'], ['vocab-size', 'vocabSize'],
];

/** The settings: defaults, then the flags; with --resume, those the run was started with (flags may not change them). */
export async function encoderSettings(args: ParsedArgs, defaults: EncoderSettings): Promise<EncoderSettings> {
  const path = join(requireOut(args), 'train-settings.json');
  if (getFlag(args, 'resume')) {
    if (!existsSync(path)) throw new CliError(`--resume: ${path} does not exist (no run was started in ${requireOut(args)})`);
    return JSON.parse(readFileSync(path, 'utf8')) as EncoderSettings;
  }
  const s: EncoderSettings = { ...defaults, preset: getString(args, 'preset', defaults.preset)! };
  applyNumbers(args, s, NUMERIC);
  const dropout = getNumber(args, 'dropout');
  if (dropout !== undefined) s['dropout'] = dropout;
  for (const key of ['maxSteps', 'batchSize', 'maxLen', 'evalEvery', 'checkpointEvery', 'keepCheckpoints'] as const) {
    if (!Number.isInteger(s[key]) || s[key] < 1) throw new CliError(`--${NUMERIC.find(([, k]) => k === key)![0]} must be a positive integer, got ${s[key]}`);
  }
  return s;
}

/** Writes train-settings.json atomically (making the directory). */
export async function saveSettings(out: string, s: EncoderSettings): Promise<void> {
  mkdirSync(out, { recursive: true });
  await writeFileAtomic(join(out, 'train-settings.json'), JSON.stringify(s, null, 2) + '\n');
}
