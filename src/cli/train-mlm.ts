// `aiayn train-mlm`: pretrains a BERT / RoBERTa model by masked language modelling (Devlin et al. 2019, §3.1:
// 15% of tokens chosen, 80% [MASK], 10% random, 10% kept) on lines of text, by default Multi30k's English side.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { multi30kPath } from '../data/corpora.js';
import { readAllLines, readText } from '../data/files.js';
import { WordPiece } from '../data/wordpiece.js';
import { wordPieceFromJson } from '../data/wordpiece-json.js';
import { loadHfBert } from '../io/hf-bert.js';
import { Bert } from '../models/bert.js';
import { BERT_PRESETS, makeBertConfig, type BertPresetName } from '../models/bert-config.js';
import { mlmTask } from '../train/bert-tasks.js';
import { trainEncoder } from '../train/encoder-loop.js';
import { CliError, getFlag, getString, parseArgs, requireOut } from './args.js';
import { ENCODER_FLAGS_HELP, encoderSettings, saveSettings, type EncoderSettings } from './encoder-args.js';

const HELP = `usage: aiayn train-mlm --out DIR [--preset NAME] [--train FILE --val FILE] [options]

  --preset NAME      ${Object.keys(BERT_PRESETS).join(', ')} (default bert-tiny)
  --train FILE       lines of text (plain or .gz; default: Multi30k English train), --val FILE (default: its val)
  --vocab-size N     WordPiece vocabulary learnt from the training text (default 4000)
  --out DIR          Hugging Face directory (config.json, model.safetensors, tokenizer.json) + train-log.jsonl,
                     curves.html, checkpoints/
${ENCODER_FLAGS_HELP}`;

const DEFAULTS: EncoderSettings = {
  preset: 'bert-tiny', maxSteps: 3000, maxMinutes: 0, lr: 5e-4, warmup: 300, weightDecay: 0.01, clipNorm: 1, batchSize: 64, maxLen: 64,
  evalEvery: 250, checkpointEvery: 500, keepCheckpoints: 2, seed: 1, vocabSize: 4000,
};

/** A model of the preset over the tokenizer's vocabulary, with room for maxLen positions. */
export function newModel(s: EncoderSettings, tokenizer: WordPiece, numLabels: number): Bert {
  if (!(s.preset in BERT_PRESETS)) throw new CliError(`--preset must be one of ${Object.keys(BERT_PRESETS).join(', ')}, got '${s.preset}'`);
  const preset = BERT_PRESETS[s.preset as BertPresetName];
  const padId = tokenizer.special('[PAD]');
  const maxPositions = s.maxLen + (preset.variant === 'roberta' ? padId + 1 : 0);
  const dropout = typeof s['dropout'] === 'number' ? { dropout: s['dropout'], attentionDropout: s['dropout'] } : {};
  return new Bert(makeBertConfig(s.preset as BertPresetName, { vocabSize: tokenizer.vocab.length, padId, maxPositions, numLabels, seed: s.seed, ...dropout }));
}

/** Runs `aiayn train-mlm`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['resume', 'help', 'quiet'], aliases: { '-o': 'out', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const out = requireOut(args);
  const s = await encoderSettings(args, { ...DEFAULTS, train: getString(args, 'train', multi30kPath('train', 'en')), val: getString(args, 'val', multi30kPath('val', 'en')) });
  const train = await readAllLines(String(s['train']));
  const val = await readAllLines(String(s['val']));
  const resume = getFlag(args, 'resume') && existsSync(join(out, 'config.json'));
  const tokenizer = resume ? wordPieceFromJson(await readText(join(out, 'tokenizer.json')), join(out, 'tokenizer.json')) : WordPiece.learn(train, { vocabSize: s.vocabSize });
  const model = resume ? loadHfBert(out, { seed: s.seed }).model : newModel(s, tokenizer, 0);
  if (!resume) await saveSettings(out, s);
  const rows = (lines: string[]) => lines.map((l) => tokenizer.encodeForModel(l, undefined, s.maxLen).ids);
  const task = mlmTask(model, tokenizer, rows(train), rows(val), { batchSize: s.batchSize, seed: s.seed });
  console.error(`train-mlm: ${s.preset}, ${model.parameters().reduce((n, p) => n + p.size, 0)} parameters, vocabulary ${tokenizer.vocab.length}, ${train.length} training lines`);
  const r = await trainEncoder({ ...s, out, title: 'train-mlm', model, tokenizer, labels: [], task, resume: getFlag(args, 'resume'), progress: !getFlag(args, 'quiet') });
  console.log(`trained ${r.steps} steps in ${(r.seconds / 60).toFixed(1)} min: train loss ${r.trainLoss.toFixed(3)}, val MLM loss ${r.valLoss.toFixed(3)}, masked-token accuracy ${(100 * r.valAcc).toFixed(2)}%; model in ${out}`);
  return 0;
}
