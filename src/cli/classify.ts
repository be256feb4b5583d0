// `aiayn classify`: labels stdin lines with a fine-tuned BERT / RoBERTa classifier (Devlin et al. 2019, §4.1),
// printing each line's label and the probability of every label; --eval scores a `label<TAB>text` file.

import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { loadEncoderTokenizer } from '../data/encoder-tokenizer.js';
import { loadHfBert } from '../io/hf-bert.js';
import { classProbabilities } from '../train/bert-tasks.js';
import { CliError, getFlag, getNumber, getString, parseArgs } from './args.js';
import { checkTokenizerFits, readLabelled } from './finetune.js';

const HELP = `usage: aiayn classify --model DIR [--eval TEST.tsv] [--max-len N] < lines

  --model DIR        a classifier directory (from aiayn finetune, or a Hugging Face *ForSequenceClassification
                     directory with a WordPiece or RoBERTa byte-level BPE tokenizer.json)
  --eval FILE        instead of stdin: 'label<TAB>text' lines; prints the accuracy
  output             one line per input: label<TAB>label=probability ... (every label)`;

/** Runs `aiayn classify`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['help'], aliases: { '-m': 'model', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const dir = getString(args, 'model');
  if (dir === undefined) throw new CliError('--model DIR is required');
  const { model, labels } = loadHfBert(dir);
  if (labels.length === 0) throw new CliError(`${dir} is not a classifier (its config.json has no ForSequenceClassification architecture and labels)`);
  model.eval();
  const tokenizer = await loadEncoderTokenizer(join(dir, 'tokenizer.json'));
  checkTokenizerFits(tokenizer, model.config, join(dir, 'tokenizer.json'));
  const maxLen = getNumber(args, 'max-len', model.config.variant === 'roberta' ? model.config.maxPositions - model.config.padId - 1 : model.config.maxPositions)!;
  const encode = (text: string) => tokenizer.encodeForModel(text, undefined, maxLen).ids;
  const evalFile = getString(args, 'eval');
  if (evalFile !== undefined) {
    const examples = await readLabelled(evalFile);
    const probs = await classProbabilities(model, examples.map((e) => encode(e.text)));
    const correct = probs.filter((p, i) => labels[p.indexOf(Math.max(...p))] === examples[i]!.label).length;
    console.log(`accuracy ${(100 * correct / examples.length).toFixed(2)}% (${correct} of ${examples.length}) on ${evalFile}`);
    return 0;
  }
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) lines.push(line);
  const probs = await classProbabilities(model, lines.map(encode));
  for (const p of probs) console.log(`${labels[p.indexOf(Math.max(...p))]}\t${p.map((x, i) => `${labels[i]}=${x.toFixed(4)}`).join(' ')}`);
  return 0;
}
