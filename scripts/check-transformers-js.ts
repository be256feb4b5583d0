// Checks a model directory's tokenizer.json (WordPiece or RoBERTa's byte-level BPE) and tokenizer_config.json against
// @huggingface/transformers' AutoTokenizer on every English line of Multi30k. The package is not a dependency (it
// brings onnxruntime, ~390 MB), so install it elsewhere and pass its entry file:
//   (cd /tmp/hfjs && npm init -y && npm install --ignore-scripts @huggingface/transformers@4.3.2)
//   node --import tsx scripts/check-transformers-js.ts /tmp/hfjs/node_modules/@huggingface/transformers/dist/transformers.node.mjs MODEL_DIR
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { MULTI30K_SPLITS, readMulti30k } from '../src/data/corpora.js';
import { encoderTokenizerFromJson } from '../src/data/encoder-tokenizer.js';

const [entry, modelDir] = process.argv.slice(2);
if (entry === undefined || modelDir === undefined) throw new Error('usage: check-transformers-js.ts TRANSFORMERS_ENTRY.mjs MODEL_DIR');
const { AutoTokenizer, env } = await import(resolve(entry)) as {
  AutoTokenizer: { from_pretrained(name: string): Promise<{ encode(text: string): number[] }> };
  env: { allowRemoteModels: boolean; localModelPath: string };
};
env.allowRemoteModels = false;
env.localModelPath = dirname(resolve(modelDir)) + '/';
const theirs = await AutoTokenizer.from_pretrained(basename(resolve(modelDir)));
const ours = encoderTokenizerFromJson(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8'));
let lines = 0;
let differ = 0;
for (const split of MULTI30K_SPLITS) {
  for (const { src } of await readMulti30k(split)) {
    lines++;
    if (theirs.encode(src).join() !== ours.encodeForModel(src).ids.join()) differ++;
  }
}
console.log(`${lines} Multi30k English lines: ${differ} encoded differently by @huggingface/transformers' AutoTokenizer`);
