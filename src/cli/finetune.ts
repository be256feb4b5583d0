// `aiayn finetune`: fine-tunes a sequence classifier (Devlin et al. 2019, §4.1: the pooled [CLS] state and one
// linear layer, all weights trained) from a pretrained Hugging Face BERT / RoBERTa directory (--model), or from
// scratch (--preset, with --tokenizer), on TSV files of `label<TAB>text` lines.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadEncoderTokenizer, type EncoderTokenizer } from '../data/encoder-tokenizer.js';
import { readAllLines } from '../data/files.js';
import { loadHfBert } from '../io/hf-bert.js';
import type { Bert } from '../models/bert.js';
import type { BertConfig } from '../models/bert-config.js';
import { classificationTask, type LabelledIds } from '../train/bert-tasks.js';
import { trainEncoder } from '../train/encoder-loop.js';
import { CliError, getFlag, getString, parseArgs, requireOut } from './args.js';
import { ENCODER_FLAGS_HELP, encoderSettings, saveSettings, type EncoderSettings } from './encoder-args.js';
import { newModel } from './train-mlm.js';

const HELP = `usage: aiayn finetune --out DIR --train TRAIN.tsv --val VAL.tsv (--model DIR | --preset NAME --tokenizer FILE) [options]

  --train, --val     lines of 'label<TAB>text' (plain or .gz); labels are the sorted distinct labels of --train
  --model DIR        a pretrained Hugging Face BERT / RoBERTa directory (e.g. from aiayn train-mlm): its encoder
                     and tokenizer.json are used, the classifier starts fresh
  --preset NAME      instead of --model: a model of this preset from random weights, tokenized with
  --tokenizer FILE   this tokenizer.json (WordPiece, or RoBERTa's byte-level BPE)
  --out DIR          Hugging Face directory of the classifier + train-log.jsonl, curves.html, checkpoints/
${ENCODER_FLAGS_HELP}`;

const DEFAULTS: EncoderSettings = {
  preset: 'bert-tiny', maxSteps: 1000, maxMinutes: 0, lr: 1e-4, warmup: 100, weightDecay: 0.01, clipNorm: 1, batchSize: 32, maxLen: 64,
  evalEvery: 100, checkpointEvery: 250, keepCheckpoints: 2, seed: 1, vocabSize: 0,
};

/** Label and text of each `label<TAB>text` line of a file. */
export async function readLabelled(path: string): Promise<Array<{ label: string; text: string }>> {
  return (await readAllLines(path)).map((line, i) => {
    const tab = line.indexOf('\t');
    if (tab <= 0) throw new CliError(`${path}:${i + 1}: expected 'label<TAB>text'`);
    return { label: line.slice(0, tab), text: line.slice(tab + 1) };
  });
}

/** Refuses a tokenizer whose ids the model cannot embed or whose padding id is not the model's. */
export function checkTokenizerFits(tokenizer: EncoderTokenizer, config: BertConfig, source: string): void {
  if (tokenizer.vocabSize > config.vocabSize) throw new CliError(`${source} has ${tokenizer.vocabSize} token ids, but the model's vocabulary has ${config.vocabSize}`);
  if (tokenizer.padId !== config.padId) throw new CliError(`${source} pads with id ${tokenizer.padId}, but the model's pad_token_id is ${config.padId}`);
}

/** Runs `aiayn finetune`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['resume', 'help', 'quiet'], aliases: { '-o': 'out', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const out = requireOut(args);
  const given = Object.fromEntries(['train', 'val', 'model', 'tokenizer'].map((k) => [k, getString(args, k)]));
  const s = await encoderSettings(args, { ...DEFAULTS, ...given });
  if (s['train'] === undefined || s['val'] === undefined) throw new CliError('--train and --val are required');
  if ((s['model'] === undefined) === (s['tokenizer'] === undefined)) throw new CliError('give --model DIR (pretrained) or --tokenizer FILE (from scratch with --preset), not both');
  const train = await readLabelled(String(s['train']));
  const val = await readLabelled(String(s['val']));
  const labels = [...new Set(train.map((e) => e.label))].sort();
  const unknown = val.find((e) => !labels.includes(e.label));
  if (unknown !== undefined) throw new CliError(`--val has label '${unknown.label}', which --train lacks (labels: ${labels.join(', ')})`);
  let model: Bert;
  let tokenizer: EncoderTokenizer;
  const resume = getFlag(args, 'resume') && existsSync(join(out, 'config.json'));
  const tokFile = resume ? join(out, 'tokenizer.json') : s['model'] !== undefined ? join(String(s['model']), 'tokenizer.json') : String(s['tokenizer']);
  tokenizer = await loadEncoderTokenizer(tokFile);
  if (resume) model = loadHfBert(out, { seed: s.seed }).model;
  else if (s['model'] !== undefined) model = loadHfBert(String(s['model']), { labels, seed: s.seed }).model;
  else model = newModel(s, tokenizer, labels.length);
  checkTokenizerFits(tokenizer, model.config, tokFile);
  if (!resume) await saveSettings(out, s);
  const encode = (e: { label: string; text: string }): LabelledIds => ({ ids: tokenizer.encodeForModel(e.text, undefined, s.maxLen).ids, label: labels.indexOf(e.label) });
  const task = classificationTask(model, train.map(encode), val.map(encode), { batchSize: s.batchSize, seed: s.seed });
  console.error(`finetune: ${s['model'] === undefined ? `${s.preset} from scratch` : `from ${String(s['model'])}`}, labels ${labels.join(', ')}, ${train.length} training examples`);
  const r = await trainEncoder({ ...s, out, title: 'finetune', model, tokenizer, labels, task, resume: getFlag(args, 'resume'), progress: !getFlag(args, 'quiet') });
  console.log(`fine-tuned ${r.steps} steps in ${(r.seconds / 60).toFixed(1)} min: train loss ${r.trainLoss.toFixed(3)}, val loss ${r.valLoss.toFixed(3)}, val accuracy ${(100 * r.valAcc).toFixed(2)}%; model in ${out}`);
  return 0;
}
