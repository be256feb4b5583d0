// `aiayn train-lm`: trains a GPT language model (src/train/lm.ts) from a preset and flags.

import { TINY_SHAKESPEARE_PATH } from '../data/corpora.js';
import { trainLm } from '../train/lm.js';
import { lmPreset, LM_PRESETS, type LmSettings } from '../train/lm-presets.js';
import { parseNonfinitePolicy } from '../train/nonfinite.js';
import { applyNumbers, CliError, getFlag, getNumber, getString, requireOut, parseArgs } from './args.js';

const HELP = `usage: aiayn train-lm [--preset NAME] --out DIR [options]

  --preset NAME        ${Object.keys(LM_PRESETS).join(', ')} (default shakespeare-char: nanoGPT's CPU recipe)
  --out DIR            GPT directory to write (config.json, weights.safetensors, train-log.jsonl, curves.html,
                       checkpoints/); 'aiayn generate --model DIR' samples from it
  --text FILE          the corpus (plain or .gz; default the bundled tiny Shakespeare), last 10% for validation
  --resume             continue from the newest checkpoint in DIR (bit-exact)
  --max-steps N  --max-minutes M  --batch-size N  --lr LR  --min-lr LR  --warmup N  --lr-decay-steps N  --weight-decay W
  --clip NORM  --eval-every N  --eval-batches N (0: the whole validation text)  --sample-tokens N  --checkpoint-every N  --seed N  --dropout P
  --on-nonfinite skip|stop   a step whose loss or gradient norm is NaN/Inf: skip its update (default) or stop
  --quiet              no progress bar`;

/** Runs `aiayn train-lm`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['resume', 'help', 'quiet'], aliases: { '-o': 'out', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  let settings: LmSettings;
  try { settings = lmPreset(getString(args, 'preset', 'shakespeare-char')!); } catch (err) { throw new CliError((err as Error).message); }
  const numeric: Array<[string, keyof LmSettings]> = [
    ['max-steps', 'maxSteps'], ['max-minutes', 'maxMinutes'], ['batch-size', 'batchSize'], ['lr', 'lr'], ['min-lr', 'minLr'],
    ['warmup', 'warmup'], ['lr-decay-steps', 'lrDecaySteps'], ['weight-decay', 'weightDecay'], ['clip', 'clipNorm'], ['eval-every', 'evalEvery'],
    ['eval-batches', 'evalBatches'], ['sample-tokens', 'sampleTokens'], ['checkpoint-every', 'checkpointEvery'], ['seed', 'seed'],
  ];
  applyNumbers(args, settings, numeric);
  const dropout = getNumber(args, 'dropout');
  if (dropout !== undefined) settings.model = { ...settings.model, dropout, attentionDropout: dropout };
  const out = requireOut(args);
  let onNonfinite;
  try { onNonfinite = parseNonfinitePolicy(getString(args, 'on-nonfinite', 'skip')!); } catch (err) { throw new CliError((err as Error).message); }
  const textPath = getString(args, 'text', TINY_SHAKESPEARE_PATH)!;
  const result = await trainLm({ ...settings, out, textPath, resume: getFlag(args, 'resume'), progress: !getFlag(args, 'quiet'), onNonfinite });
  console.log(`trained ${result.steps} steps in ${result.seconds.toFixed(1)} s: train loss ${result.trainLoss.toFixed(4)}, val loss ${result.valLoss.toFixed(4)}; model in ${out}`);
  return 0;
}
