// Greedy translations of Multi30k test2016 (de->en by default) by aiayn and by onnxruntime on an export of the same
// model (aiayn export onnx): how many sentences are identical, the largest log-probability difference over every
// step, and the BLEU of each side (sacreBLEU's default, src/eval/bleu.ts).
//
// Usage: node --import tsx bench/ort-test2016.ts --model MODEL_DIR --onnx ONNX_DIR [--split test_2016_flickr] [--batch 50] [--limit N]

import { readMulti30k, type Multi30kSplit } from '../src/data/corpora.js';
import { corpusBleu } from '../src/eval/bleu.js';
import { loadModelDir } from '../src/io/model-dir.js';
import { compareGreedy } from './ort-compare.js';
import { eachFlag } from './flags.js';

/** Parses the flags, decodes with both sides and prints the comparison. */
async function main(): Promise<void> {
  const o = { model: '', onnx: '', split: 'test_2016_flickr', batch: 50, limit: Infinity };
  eachFlag(process.argv.slice(2), (flag, v) => {
    if (flag === '--model') o.model = v.text();
    else if (flag === '--onnx') o.onnx = v.text();
    else if (flag === '--split') o.split = v.text();
    else if (flag === '--batch') o.batch = v.count();
    else if (flag === '--limit') o.limit = v.count();
    else return false;
    return true;
  });
  if (o.model === '' || o.onnx === '') throw new Error('give --model MODEL_DIR and --onnx ONNX_DIR');
  const { model, tokenizer, config } = await loadModelDir(o.model);
  const [src, tgt] = [config.srcLang ?? 'de', config.tgtLang ?? 'en'] as ['de' | 'en', 'de' | 'en'];
  const pairs = (await readMulti30k(o.split as Multi30kSplit, src, tgt)).slice(0, o.limit);
  const maxModel = model.config.maxLen;
  const sources = pairs.map((p) => [...tokenizer.encode(p.src).slice(0, maxModel - 1), 2]);
  const t0 = performance.now();
  const r = await compareGreedy(model, o.onnx, sources, { maxLen: (s) => Math.min(s.length + 50, maxModel), batch: o.batch });
  const same = r.ours.filter((t, i) => JSON.stringify(t) === JSON.stringify(r.ort[i])).length;
  const refs = [pairs.map((p) => p.tgt)];
  const bleu = (hyps: number[][]): string => corpusBleu(hyps.map((h) => tokenizer.decode(h)), refs).score.toFixed(2);
  console.log(`${o.split} ${src}->${tgt}, ${pairs.length} sentences, greedy: identical translations ${same}/${pairs.length}; ` +
    `${r.compared} row-steps compared (${r.unmatched} made by one side only), largest |log p difference| ${r.worst.toExponential(2)}; ` +
    `BLEU aiayn ${bleu(r.ours)}, onnxruntime ${bleu(r.ort)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

await main();
