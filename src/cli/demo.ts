// `aiayn demo`: the main job in miniature. Trains a small German->English Transformer on the bundled
// Multi30k for a few minutes (progress bar), then translates a few test sentences and scores test2016.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOS_ID, EOS_ID, PAD_ID } from '../data/bpe.js';
import { readMulti30k } from '../data/corpora.js';
import { translate } from '../decode/translate.js';
import { corpusBleu, formatScore } from '../eval/index.js';
import { loadModelDir } from '../io/model-dir.js';
import { getBackend } from '../backend/index.js';
import { trainPreset } from '../train/presets.js';
import { ProgressBar } from '../train/progress.js';
import { trainTranslation } from '../train/translation.js';
import { getFlag, getNumber, getString, parseArgs } from './args.js';

const HELP = `usage: aiayn demo [--minutes M] [--max-steps N] [--out DIR] [--test-sentences N]

Trains the 'demo' preset (a tiny Transformer, De->En Multi30k) for a few minutes, then translates
test sentences and prints sacreBLEU on test2016.`;

/** Runs `aiayn demo`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['help'], aliases: { '-o': 'out', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const settings = trainPreset('demo');
  settings.maxMinutes = getNumber(args, 'minutes', settings.maxMinutes)!;
  settings.maxSteps = getNumber(args, 'max-steps', settings.maxSteps)!;
  const out = getString(args, 'out', join(tmpdir(), 'aiayn-demo'))!;
  console.log(`aiayn demo: training a ${settings.modelPreset} Transformer (${settings.srcLang}->${settings.tgtLang}, Multi30k) ` +
    `for up to ${settings.maxMinutes} min / ${settings.maxSteps} steps on the ${getBackend().name} backend (${getBackend().threads()} threads)`);
  const result = await trainTranslation({ ...settings, out, log: (line) => console.log(line) });
  console.log(`trained ${result.steps} steps in ${(result.seconds / 60).toFixed(1)} min; model in ${out}\n`);

  const { model, tokenizer } = await loadModelDir(out);
  const test = await readMulti30k('test_2016_flickr', settings.srcLang, settings.tgtLang);
  const limit = Math.min(getNumber(args, 'test-sentences', test.length)!, test.length);
  const subset = test.slice(0, limit);
  const bar = new ProgressBar({ total: subset.length, label: 'translate test2016', unit: 'sent' });
  let last = 0;
  const hyps = await translate(model, tokenizer, subset.map((p) => p.src), {
    special: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID }, onProgress: (done) => { bar.tick(done, done - last); last = done; },
  });
  bar.done();
  for (let i = 0; i < Math.min(4, subset.length); i++) {
    console.log(`  source:    ${subset[i]!.src}\n  reference: ${subset[i]!.tgt}\n  aiayn:     ${hyps[i]}\n`);
  }
  console.log(`test2016 (${subset.length} sentences, greedy): ${formatScore(corpusBleu(hyps, [subset.map((p) => p.tgt)]))}`);
  return 0;
}
