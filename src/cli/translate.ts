// `aiayn translate`: reads sentences from stdin (one per line), writes translations to stdout.

import { createInterface } from 'node:readline';
import { BOS_ID, EOS_ID, PAD_ID } from '../data/bpe.js';
import { translate, type TranslateOptions } from '../decode/translate.js';
import { loadModelDir, loadWeights } from '../io/model-dir.js';
import { Rng } from '../tensor/random.js';
import { CliError, getFlag, getNumber, getString, parseArgs, type ParsedArgs } from './args.js';

const HELP = `usage: aiayn translate --model DIR [--beam 4 --alpha 0.6] [--max-len-a 1 --max-len-b 50] < input > output

  --model DIR       a model directory written by 'aiayn train' or 'aiayn convert'
  --weights FILE    use these weights instead of DIR/weights.safetensors (e.g. from 'aiayn average')
  --allow-nonfinite load weights that hold NaN or Inf (refused by default, naming the tensor)
  --beam K          beam width (1 = greedy, the default); --alpha is the length-penalty exponent
  --sample          sample instead: --temperature T --top-k K --top-p P --seed N
  --batch N         sentences decoded together

An empty input line gives an empty output line. A line longer than the model's maximum length is truncated,
with a warning on stderr.`;

/** Search options shared by translate and eval. */
export function searchOptions(args: ParsedArgs): TranslateOptions {
  const beam = getNumber(args, 'beam', 1)!;
  if (!Number.isInteger(beam) || beam < 1) throw new CliError(`--beam must be a positive integer, got ${beam}`);
  const opts: TranslateOptions = {
    beam, alpha: getNumber(args, 'alpha', 0.6), maxLenA: getNumber(args, 'max-len-a', 1), maxLenB: getNumber(args, 'max-len-b', 50),
    batch: getNumber(args, 'batch'), special: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID },
    onTruncate: (i, length, max) => console.error(`aiayn: warning: line ${i + 1} has ${length} tokens, more than the model's ${max}; truncated`),
  };
  if (getFlag(args, 'sample')) {
    opts.sample = { temperature: getNumber(args, 'temperature', 1), topK: getNumber(args, 'top-k', 0), topP: getNumber(args, 'top-p', 1), rng: new Rng(getNumber(args, 'seed', 0)) };
  }
  return opts;
}

/** Loads --model (and --weights) with errors that name the problem; --allow-nonfinite loads NaN/Inf weights with a warning. */
export async function loadModelArg(args: ParsedArgs) {
  const dir = getString(args, 'model');
  if (dir === undefined) throw new CliError('--model DIR is required');
  const weights = getString(args, 'weights');
  const nonfinite = { allowNonfinite: getFlag(args, 'allow-nonfinite'), warn: (line: string) => console.error(`aiayn: ${line}`) };
  let loaded;
  try {
    // With --weights, the directory's own weights are replaced, so only the given file's must be finite.
    loaded = await loadModelDir(dir, undefined, weights === undefined ? nonfinite : { allowNonfinite: true });
    if (weights !== undefined) loadWeights(weights, loaded.model, nonfinite);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  return loaded;
}

/** Translates non-empty lines; empty lines stay empty. */
export async function translateLines(lines: readonly string[], run: (texts: string[]) => Promise<string[]>): Promise<string[]> {
  const nonEmpty = lines.map((l, i) => [l, i] as const).filter(([l]) => l.trim() !== '');
  const outputs = await run(nonEmpty.map(([l]) => l));
  const result = lines.map(() => '');
  nonEmpty.forEach(([, i], k) => { result[i] = outputs[k]!; });
  return result;
}

/** Runs `aiayn translate`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['help', 'allow-nonfinite', 'sample'], aliases: { '-m': 'model', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const { model, tokenizer } = await loadModelArg(args);
  const opts = searchOptions(args);
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) lines.push(line);
  const out = await translateLines(lines, (texts) => translate(model, tokenizer, texts, opts));
  process.stdout.write(out.map((l) => l + '\n').join(''));
  return 0;
}
