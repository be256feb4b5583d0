// `aiayn train-mlm`: pretrains a BERT / RoBERTa model by masked language modelling (Devlin et al. 2019, §3.1:
// 15% of tokens chosen, 80% [MASK], 10% random, 10% kept) on lines of text, by default Multi30k's English side.
// The tokenizer is learnt from the training text: WordPiece for BERT, byte-level BPE for RoBERTa (Liu et al. 2019, §4.4).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { multi30kPath } from '../data/corpora.js';
import { loadEncoderTokenizer, wordPieceEncoderTokenizer, type EncoderTokenizer } from '../data/encoder-tokenizer.js';
import { readAllLines } from '../data/files.js';
import { RobertaTokenizer } from '../data/roberta-bpe.js';
import { WordPiece } from '../data/wordpiece.js';
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
  --vocab-size N     vocabulary learnt from the training text (default 4000): WordPiece for a BERT preset,
                     byte-level BPE for a RoBERTa one
  --out DIR          Hugging Face directory (config.json, model.safetensors, tokenizer.json) + train-log.jsonl,
                     curves.html, checkpoints/
${ENCODER_FLAGS_HELP}`;

const DEFAULTS: EncoderSettings = {
  preset: 'bert-tiny', maxSteps: 3000, maxMinutes: 0, lr: 5e-4, warmup: 300, weightDecay: 0.01, clipNorm: 1, batchSize: 64, maxLen: 64,
  evalEvery: 250, checkpointEvery: 500, keepCheckpoints: 2, seed: 1, vocabSize: 4000,
};

/** A model of the preset over the tokenizer's vocabulary, with room for maxLen positions. */
export function newModel(s: EncoderSettings, tokenizer: EncoderTokenizer, numLabels: number): Bert {
  const preset = presetOf(s);
  const padId = tokenizer.padId;
  const maxPositions = s.maxLen + (preset.variant === 'roberta' ? padId + 1 : 0);
  const dropout = typeof s['dropout'] === 'number' ? { dropout: s['dropout'], attentionDropout: s['dropout'] } : {};
  return new Bert(makeBertConfig(s.preset as BertPresetName, { vocabSize: tokenizer.vocabSize, padId, maxPositions, numLabels, seed: s.seed, ...dropout }));
}

/** The preset --preset names, or an error listing them. */
function presetOf(s: EncoderSettings): (typeof BERT_PRESETS)[BertPresetName] {
  if (!(s.preset in BERT_PRESETS)) throw new CliError(`--preset must be one of ${Object.keys(BERT_PRESETS).join(', ')}, got '${s.preset}'`);
  return BERT_PRESETS[s.preset as BertPresetName];
}

/** The preset's tokenizer learnt from the training lines: RoBERTa's byte-level BPE or BERT's WordPiece. */
export function learnTokenizer(s: EncoderSettings, lines: readonly string[]): EncoderTokenizer {
  if (presetOf(s).variant === 'roberta') return RobertaTokenizer.learn(lines, { vocabSize: s.vocabSize });
  return wordPieceEncoderTokenizer(WordPiece.learn(lines, { vocabSize: s.vocabSize }));
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
  const tokenizer = resume ? await loadEncoderTokenizer(join(out, 'tokenizer.json')) : learnTokenizer(s, train);
  const model = resume ? loadHfBert(out, { seed: s.seed }).model : newModel(s, tokenizer, 0);
  if (!resume) await saveSettings(out, s);
  const rows = (lines: string[]) => lines.map((l) => tokenizer.encodeForModel(l, undefined, s.maxLen).ids);
  const task = mlmTask(model, tokenizer, rows(train), rows(val), { batchSize: s.batchSize, seed: s.seed });
  console.error(`train-mlm: ${s.preset}, ${model.parameters().reduce((n, p) => n + p.size, 0)} parameters, vocabulary ${tokenizer.vocabSize}, ${train.length} training lines`);
  const r = await trainEncoder({ ...s, out, title: 'train-mlm', model, tokenizer, labels: [], task, resume: getFlag(args, 'resume'), progress: !getFlag(args, 'quiet') });
  console.log(`trained ${r.steps} steps in ${(r.seconds / 60).toFixed(1)} min: train loss ${r.trainLoss.toFixed(3)}, val MLM loss ${r.valLoss.toFixed(3)}, masked-token accuracy ${(100 * r.valAcc).toFixed(2)}%; model in ${out}`);
  return 0;
}
