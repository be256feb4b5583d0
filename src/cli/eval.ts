// `aiayn eval`: translates a source file with a model and scores it against references (sacreBLEU BLEU, chrF).

import { writeFileAtomic, readAllLines } from '../data/files.js';
import { translate } from '../decode/translate.js';
import { corpusBleu, corpusChrf, formatScore } from '../eval/index.js';
import { ProgressBar } from '../train/progress.js';
import { CliError, getFlag, getString, parseArgs } from './args.js';
import { loadModelArg, searchOptions, translateLines } from './translate.js';

const HELP = `usage: aiayn eval --model DIR --src FILE --ref FILE [--beam 4 --alpha 0.6] [-o HYP_FILE] [--json]`;

/** Runs `aiayn eval`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['help', 'allow-nonfinite', 'sample', 'json'], aliases: { '-m': 'model', '-o': 'out', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const srcPath = getString(args, 'src');
  const refPath = getString(args, 'ref');
  if (srcPath === undefined || refPath === undefined) throw new CliError('--src FILE and --ref FILE are required');
  const { model, tokenizer } = await loadModelArg(args);
  const [sources, refs] = await Promise.all([readAllLines(srcPath), readAllLines(refPath)]);
  if (sources.length !== refs.length) throw new CliError(`${srcPath} has ${sources.length} lines but ${refPath} has ${refs.length}`);
  const bar = new ProgressBar({ total: sources.length, label: 'translate', unit: 'sent' });
  let last = 0;
  const opts = { ...searchOptions(args), onProgress: (done: number) => { bar.tick(done, done - last); last = done; } };
  const hyps = await translateLines(sources, (texts) => translate(model, tokenizer, texts, opts));
  bar.done();
  const out = getString(args, 'out');
  if (out !== undefined) await writeFileAtomic(out, hyps.map((h) => h + '\n').join(''));
  const bleu = corpusBleu(hyps, [refs]);
  const chrf = corpusChrf(hyps, [refs]);
  if (getFlag(args, 'json')) console.log(JSON.stringify({ bleu: bleu.score, chrf: chrf.score, sentences: hyps.length }));
  else console.log(`${formatScore(bleu)}\n${formatScore(chrf)}`);
  return 0;
}
