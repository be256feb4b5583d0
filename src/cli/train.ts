// `aiayn train`: trains a translation model from a preset, a config file and/or flags.

import { readFileSync } from 'node:fs';
import { readParallel } from '../data/files.js';
import { openCollective } from '../train/distributed.js';
import { parseNonfinitePolicy } from '../train/nonfinite.js';
import { trainPreset, type TrainSettings } from '../train/presets.js';
import { trainTranslation } from '../train/translation.js';
import { applyNumbers, CliError, getFlag, getNumber, getString, requireOut, parseArgs } from './args.js';

const HELP = `usage: aiayn train [--preset NAME] [--config FILE.json] --out DIR [options]

  --preset NAME        multi30k-de-en (default), multi30k-en-de, demo
  --config FILE        JSON object of settings overriding the preset (same keys as below, camelCase)
  --out DIR            model directory to write (config.json, tokenizer.json, weights.safetensors,
                       train-log.jsonl, curves.html, checkpoints/)
  --resume             continue from the newest checkpoint in DIR (bit-exact)
  --max-steps N        --max-minutes M   --batch-tokens N   --warmup N   --lr-factor F
  --vocab-size N       --eval-every N    --bleu-sentences N --checkpoint-every N  --seed N
  --clip NORM          --dropout P
  --on-nonfinite skip|stop   a step whose loss or gradient norm is NaN/Inf: skip its update (default) or
                       stop; --max-nonfinite K stops after K skipped steps in a row (default 5)
  --train-src F --train-tgt F --val-src F --val-tgt F   your own parallel text (plain or .gz)

Data-parallel on N processes (needs Open MPI: apt-get install libopenmpi-dev openmpi-bin, then npm rebuild):
  mpirun -np N npx aiayn train ...   each rank trains on 1/N of every batch; rank 0 writes (docs/distributed.md)`;

/** Runs `aiayn train`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['resume', 'help', 'quiet'], aliases: { '-o': 'out', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const settings: TrainSettings = trainPreset(getString(args, 'preset', 'multi30k-de-en')!);
  const configFile = getString(args, 'config');
  if (configFile !== undefined) {
    let json: unknown;
    try { json = JSON.parse(readFileSync(configFile, 'utf8')); } catch (err) { throw new CliError(`--config ${configFile}: ${(err as Error).message}`); }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CliError(`--config ${configFile}: expected a JSON object`);
    for (const [key, value] of Object.entries(json)) {
      if (!(key in settings)) throw new CliError(`--config ${configFile}: unknown setting '${key}' (known: ${Object.keys(settings).join(', ')})`);
      (settings as unknown as Record<string, unknown>)[key] = key === 'model' ? { ...settings.model, ...(value as object) } : value;
    }
  }
  const numeric: Array<[string, keyof TrainSettings]> = [
    ['max-steps', 'maxSteps'], ['max-minutes', 'maxMinutes'], ['batch-tokens', 'batchTokens'], ['warmup', 'warmup'],
    ['lr-factor', 'lrFactor'], ['vocab-size', 'vocabSize'], ['eval-every', 'evalEvery'], ['bleu-sentences', 'bleuSentences'],
    ['checkpoint-every', 'checkpointEvery'], ['seed', 'seed'], ['clip', 'clipNorm'],
  ];
  applyNumbers(args, settings, numeric);
  const dropout = getNumber(args, 'dropout');
  if (dropout !== undefined) settings.model = { ...settings.model, dropout, attentionDropout: dropout };
  const out = requireOut(args);
  const files = ['train-src', 'train-tgt', 'val-src', 'val-tgt'].map((f) => getString(args, f));
  const given = files.filter((f) => f !== undefined).length;
  if (given !== 0 && given !== 4) throw new CliError('give all of --train-src, --train-tgt, --val-src, --val-tgt, or none (bundled Multi30k)');
  const collect = async (src: string, tgt: string) => { const pairs = []; for await (const p of readParallel(src, tgt)) pairs.push(p); return pairs; };
  const train = given === 4 ? await collect(files[0]!, files[1]!) : undefined;
  const val = given === 4 ? await collect(files[2]!, files[3]!) : undefined;
  let onNonfinite;
  try { onNonfinite = parseNonfinitePolicy(getString(args, 'on-nonfinite', 'skip')!); } catch (err) { throw new CliError((err as Error).message); }
  const maxNonfiniteSkips = getNumber(args, 'max-nonfinite');
  const result = await trainTranslation({ ...settings, out, resume: getFlag(args, 'resume'), train, val, progress: !getFlag(args, 'quiet'), onNonfinite, maxNonfiniteSkips });
  if (openCollective().rank !== 0) return 0;
  console.log(`trained ${result.steps} steps in ${(result.seconds / 60).toFixed(1)} min: train loss ${result.trainLoss.toFixed(3)}, ` +
    `val loss ${result.valLoss.toFixed(3)}${result.valBleu === null ? '' : `, val BLEU ${result.valBleu.toFixed(2)}`}; model in ${out}`);
  return 0;
}
