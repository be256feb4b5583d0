// BPE benchmark: learning 8k merges on Multi30k train (de+en), encoding speed of our BPE and of GPT-2, and the
// test2016 token count that docs/data.md compares with subword-nmt. Run: node --import tsx bench/bpe.ts
import { existsSync } from 'node:fs';
import { Bpe, countWords, Gpt2Tokenizer, GPT2_RANKS_PATH, readAllLines, readText, multi30kPath } from '../src/data/index.js';

const MERGES = 8000;
const SHAKESPEARE = new URL('../data/tinyshakespeare/input.txt.gz', import.meta.url);

function seconds<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const result = fn();
  return [result, (performance.now() - start) / 1000];
}

function encodeRate(encode: (line: string) => number[], lines: string[]): number {
  const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  const [, s] = seconds(() => { for (const line of lines) encode(line); });
  return bytes / 1e6 / s;
}

const train = [...await readAllLines(multi30kPath('train', 'de')), ...await readAllLines(multi30kPath('train', 'en'))];
const learnTimes: number[] = [];
let bpe: Bpe | undefined;
for (let run = 0; run < 3; run++) {
  const [learned, s] = seconds(() => Bpe.learnFromCounts(countWords(train), { merges: MERGES }));
  learnTimes.push(s);
  bpe = learned;
}
const model = bpe!;
learnTimes.sort((a, b) => a - b);
console.log(`learn ${MERGES} merges on Multi30k train (${train.length} lines, de+en): median ${learnTimes[1]!.toFixed(2)} s (runs: ${learnTimes.map((t) => t.toFixed(2)).join(', ')})`);
console.log(`vocabulary: ${model.vocabSize} (4 specials + 256 bytes + ${model.symbols.length} symbols + ${model.merges.length} merges)`);

const cold = Bpe.fromJSON(model.toJSON());
console.log(`BPE encode, Multi30k train line by line: ${encodeRate((l) => cold.encode(l), train).toFixed(2)} MB/s cold cache, ${encodeRate((l) => cold.encode(l), train).toFixed(2)} MB/s warm`);

for (const lang of ['de', 'en'] as const) {
  const test = await readAllLines(multi30kPath('test_2016_flickr', lang));
  console.log(`test2016.${lang}: ${test.reduce((n, l) => n + model.encode(l).length, 0)} tokens`);
}

if (existsSync(SHAKESPEARE)) {
  const text = await readText(SHAKESPEARE.pathname);
  const gpt2 = await Gpt2Tokenizer.loadTiktoken(GPT2_RANKS_PATH);
  const [, s] = seconds(() => gpt2.encode(text));
  const [, warm] = seconds(() => gpt2.encode(text));
  console.log(`GPT-2 encode, tiny Shakespeare (${(text.length / 1e6).toFixed(2)} MB, one string): ${(text.length / 1e6 / s).toFixed(2)} MB/s cold cache, ${(text.length / 1e6 / warm).toFixed(2)} MB/s warm`);
}
