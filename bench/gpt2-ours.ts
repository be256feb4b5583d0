// Our side of `npm run bench:vs-torch -- --model gpt2` (bench/gpt2.ts): GPT-2 124M (Radford et al. 2019, Table 2)
// with random weights; times training steps (next-token loss, backward, clip, AdamW) and greedy generation with
// the KV cache, and prints one JSON line. The spec comes as argv[2]; threads from AIAYN_THREADS. With `--profile`
// as argv[3], the measured training steps also time every kernel call (kernel-timer.ts) and the line adds
// "kernels" (per step, costliest first); their timing then includes the timer's own cost.
import { getBackend } from '../src/backend/index.js';
import { generate } from '../src/decode/generate.js';
import { Gpt } from '../src/models/gpt.js';
import { makeGptConfig } from '../src/models/gpt-config.js';
import { tidy } from '../src/tensor/memory.js';
import { tensor } from '../src/tensor/ops/create.js';
import { Rng } from '../src/tensor/random.js';
import { AdamW } from '../src/train/optim.js';
import { NonfiniteGuard } from '../src/train/nonfinite.js';
import { guardedUpdate } from '../src/train/update.js';
import type { Gpt2Spec } from './gpt2.js';
import { instrument, kernelTable } from './kernel-timer.js';

const spec = JSON.parse(process.argv[2]!) as Gpt2Spec;
const model = new Gpt(makeGptConfig('gpt2', { dropout: 0, attentionDropout: 0 }));
const optimizer = new AdamW(model.parameters(), { lr: 1e-4, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1, decays: (p) => p.rank >= 2 });
const rng = new Rng(1);
const randomIds = (n: number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * 50257));
const [B, T] = [spec.batch, spec.context];
const ids = randomIds(B * (T + 1));
const x = new Int32Array(B * T);
const y = new Int32Array(B * T);
for (let r = 0; r < B; r++) { x.set(ids.subarray(r * (T + 1), r * (T + 1) + T), r * T); y.set(ids.subarray(r * (T + 1) + 1, (r + 1) * (T + 1)), r * T); }
const guard = new NonfiniteGuard();
const named = model.namedParameters();
/** One training step. */
async function step(): Promise<void> {
  const loss = tidy(() => { const l = model.loss(tensor(x, [B, T], 'int32'), tensor(y, [B, T], 'int32')); l.backward(); return l; });
  const value = await loss.itemAsync();
  loss.dispose();
  await guardedUpdate(value, optimizer, guard, named, 1);
}
for (let i = 0; i < spec.warmup; i++) await step();
const probe = process.argv[3] === '--profile' ? instrument(getBackend()) : null;
let t0 = performance.now();
for (let i = 0; i < spec.steps; i++) await step();
const msPerStep = (performance.now() - t0) / spec.steps;
probe?.restore();
const kernels = probe === null ? undefined : kernelTable(probe.times, spec.steps);
const prompt = Array.from(randomIds(spec.prompt));
for await (const _ of generate(model, prompt, { maxNewTokens: 4, temperature: 0 })) { /* warm-up */ }
t0 = performance.now();
let produced = 0;
for await (const _ of generate(model, prompt, { maxNewTokens: spec.newTokens, temperature: 0 })) produced++;
const generateMs = performance.now() - t0;
console.log(JSON.stringify({ ms_per_step: msPerStep, tokens_per_s: (B * T) / (msPerStep / 1000), generate_ms: generateMs, new_tokens: produced, rss_mb: process.memoryUsage().rss / 2 ** 20, kernels }));
