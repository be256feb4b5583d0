// The BERT experiment of docs/results.md, around the aiayn commands:
//   node --import tsx scripts/bert-experiment.ts data DIR   writes DIR/{train,val,test}.tsv, the replaced-word task
//     built from Multi30k English captions that pretraining never sees (test2016 + test2017 flickr: train,
//     test2017 mscoco: val, test2018 flickr: test)
//   node --import tsx scripts/bert-experiment.ts bow DIR    the bag-of-words logistic regression on the same split
//   node --import tsx scripts/bert-experiment.ts curves OUT.svg KEY NAME=RUN_DIR...   one chart of log key KEY
//     (loss, val_loss, val_acc) of each run's train-log.jsonl
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMulti30k, type Multi30kSplit } from '../src/data/corpora.js';
import { replacedWordTask } from '../src/data/replaced-word.js';
import { bowAccuracy, fitBowSelected } from '../src/experiments/bow-logreg.js';
import { lineChart } from '../src/train/curves.js';
import { smooth } from '../src/train/curves.js';

const [what, dir, ...rest] = process.argv.slice(2);
if (dir === undefined || !['data', 'bow', 'curves'].includes(what!)) throw new Error('usage: bert-experiment.ts data|bow DIR, or curves OUT.svg KEY NAME=RUN_DIR...');
const SPLITS: Record<string, Multi30kSplit[]> = { train: ['test_2016_flickr', 'test_2017_flickr'], val: ['test_2017_mscoco'], test: ['test_2018_flickr'] };

if (what === 'data') {
  mkdirSync(dir, { recursive: true });
  let seed = 1;
  for (const [name, splits] of Object.entries(SPLITS)) {
    const lines = (await Promise.all(splits.map((s) => readMulti30k(s)))).flat().map((p) => p.src);
    const rows = replacedWordTask(lines, seed++);
    writeFileSync(join(dir, `${name}.tsv`), rows.map((r) => `${r.label}\t${r.text}\n`).join(''));
    console.log(`${name}: ${rows.length} lines, ${rows.filter((r) => r.label === 'replaced').length} replaced`);
  }
} else if (what === 'curves') {
  const [key, ...runs] = rest;
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  const series = runs.map((arg, i) => {
    const [name, run] = arg.split('=') as [string, string];
    const records = readFileSync(join(run, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    const points = records.filter((r) => typeof r[key!] === 'number').map((r): [number, number] => [r['step']!, r[key!]!]);
    return { name, color: colors[i % colors.length]!, points: key === 'loss' ? smooth(points, 50) : points };
  });
  const titles: Record<string, string> = { loss: 'training loss (mean of 50 steps)', val_loss: 'validation loss', val_acc: 'validation accuracy' };
  writeFileSync(dir, lineChart(titles[key!] ?? key!, 'steps', series) + '\n');
} else {
  const read = (name: string) => {
    const rows = readFileSync(join(dir, `${name}.tsv`), 'utf8').trimEnd().split('\n').map((l) => l.split('\t'));
    return { texts: rows.map((r) => r[1]!), ys: rows.map((r) => (r[0] === 'replaced' ? 1 : 0)) };
  };
  const test = read('test');
  const model = fitBowSelected(read('train'), read('val'));
  console.log(`bag-of-words logistic regression: l2 ${model.l2} (by val accuracy ${(100 * model.valAccuracy).toFixed(2)}%), test accuracy ${(100 * bowAccuracy(model, test.texts, test.ys)).toFixed(2)}% on ${test.texts.length}`);
}
