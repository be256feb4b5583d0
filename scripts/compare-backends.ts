// Greedy translations of test2016 by one model on the `ts` and the `native` backend: how many are identical, the
// time each backend took, and the first differences.
//
//   node --import tsx scripts/compare-backends.ts --model DIR [--sentences 1000]

import { setBackend } from '../src/backend/index.js';
import { BOS_ID, EOS_ID, PAD_ID } from '../src/data/bpe.js';
import { readMulti30k, type Multi30kLang } from '../src/data/corpora.js';
import { translate } from '../src/decode/translate.js';
import { loadModelDir } from '../src/io/model-dir.js';

const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i < 0 ? undefined : process.argv[i + 1]; };
const dir = arg('model');
if (dir === undefined) throw new Error('usage: compare-backends.ts --model DIR [--sentences N]');
const { model, tokenizer, config } = await loadModelDir(dir);
const sources = (await readMulti30k('test_2016_flickr', (config.srcLang ?? 'de') as Multi30kLang, (config.tgtLang ?? 'en') as Multi30kLang)).slice(0, Number(arg('sentences') ?? 1000)).map((p) => p.src);
const outputs: string[][] = [];
for (const backend of ['native', 'ts'] as const) {
  setBackend(backend);
  const started = performance.now();
  outputs.push(await translate(model, tokenizer, sources, { special: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID } }));
  console.log(`${backend}: ${sources.length} sentences in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const differ = sources.map((_, i) => i).filter((i) => outputs[0]![i] !== outputs[1]![i]);
console.log(`identical: ${sources.length - differ.length} of ${sources.length}`);
for (const i of differ.slice(0, 5)) console.log(`  ${i + 1}: native '${outputs[0]![i]}'\n  ${' '.repeat(String(i + 1).length)}  ts     '${outputs[1]![i]}'`);
