// Greedy continuation of a prompt by onnxruntime-node on a GPT export (aiayn export onnx; the loop is
// bench/ort-gpt-greedy.ts) and by aiayn's generate on the same model directory: prints both continuations, whether
// they are identical, and the largest logit difference of aiayn's cached steps against onnxruntime's.
//
// Usage: node --import tsx bench/ort-gpt.ts --model MODEL_DIR --onnx ONNX_DIR --prompt TEXT [--tokens N]

import { generate } from '../src/decode/generate.js';
import { loadGptDir } from '../src/io/gpt-dir.js';
import { eachFlag } from './flags.js';
import { aiaynStepLogits, ortGreedyGpt } from './ort-gpt-greedy.js';

/** Parses the flags, continues the prompt with both sides and prints the comparison. */
async function main(): Promise<void> {
  const o = { model: '', onnx: '', prompt: '', tokens: 40 };
  eachFlag(process.argv.slice(2), (flag, v) => {
    if (flag === '--model') o.model = v.text();
    else if (flag === '--onnx') o.onnx = v.text();
    else if (flag === '--prompt') o.prompt = v.text();
    else if (flag === '--tokens') o.tokens = v.count();
    else return false;
    return true;
  });
  if (o.model === '' || o.onnx === '' || o.prompt === '') throw new Error('give --model MODEL_DIR, --onnx ONNX_DIR and --prompt TEXT');
  const { model, tokenizer } = await loadGptDir(o.model);
  const prompt = tokenizer.encode(o.prompt);
  const steps = Math.min(o.tokens, model.config.maxLen - prompt.length);
  const theirs = await ortGreedyGpt(o.onnx, model.config.vocabSize, prompt, steps);
  let worst = 0;
  aiaynStepLogits(model, prompt, theirs.tokens).forEach((row, s) => row.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - theirs.logits[s]![j]!)); }));
  const ours: number[] = [];
  for await (const id of generate(model, prompt, { maxNewTokens: steps, temperature: 0 })) ours.push(id);
  console.log(`aiayn:       ${JSON.stringify(tokenizer.decode(ours))}`);
  console.log(`onnxruntime: ${JSON.stringify(tokenizer.decode(theirs.tokens))}`);
  console.log(`${steps} greedy tokens, ${JSON.stringify(ours) === JSON.stringify(theirs.tokens) ? 'identical' : 'DIFFERENT'}; largest logit difference ${worst.toExponential(2)}`);
}

await main();
