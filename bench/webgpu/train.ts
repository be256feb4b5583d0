// Training tokens/s of the paper's base model (d_model 512, h 8, d_ff 2048, 6+6 layers, shared 32k vocabulary)
// at the paper's batch size (§5.1: about 25,000 target tokens a step; here 1000 sentences of 25 tokens), through
// the library's training path: model.loss (label smoothing 0.1, §5.4), backward and Adam (§5.3) in one tidy().
// Native runs the same model on 1/16 of the batch (its tokens/s hardly depends on batch size at this scale).
// Anchor: the paper's 8 P100s took about 0.4 s a step of 25,000 target tokens (§5.2), 62,500 tokens/s.

import type { Backend } from '../../src/backend/index.js';
import { Rng, tidy, type Tensor } from '../../src/tensor/index.js';
import { Adam } from '../../src/train/optim.js';
import { trainingFlops } from '../workers.js';
import { buildModel, describe, disposeModel, PAD, randomBatch, type ModelSpec } from './model.js';
import { message, round, timed, type Context, type Repeat, type Row, type Section } from './section.js';

/** Target tokens per second of the paper's base model on 8 P100s: 25,000 tokens / 0.4 s. */
export const PAPER_TOKENS_PER_S = 25_000 / 0.4;

const FULL: ModelSpec = { name: 'base', d: 512, h: 8, ff: 2048, enc: 6, dec: 6, vocab: 32000, batch: 1000, src: 25, tgt: 25 };
const QUICK: ModelSpec = { name: 'quick', d: 128, h: 4, ff: 512, enc: 2, dec: 2, vocab: 1000, batch: 8, src: 8, tgt: 8 };

/** Native's batch is the full batch divided by this (quick: the same batch). */
const NATIVE_DIVISOR = 16;

const GPU_REPEAT: Repeat = { warmup: 2, minCalls: 3, minSeconds: 5, maxCalls: 20 };
const NATIVE_REPEAT: Repeat = { warmup: 1, minCalls: 2, minSeconds: 5, maxCalls: 10 };
/** Quick: a software adapter takes seconds a step even on the quick model. */
const QUICK_REPEAT: Repeat = { warmup: 1, minCalls: 2, minSeconds: 0, maxCalls: 2 };

/** Times training steps of `spec` on `b` sequences; returns ms per step and the last loss. */
async function trainOn(backend: Backend, spec: ModelSpec, b: number, repeat: Repeat): Promise<{ ms: number; calls: number; loss: number }> {
  const model = buildModel(backend, spec);
  const optimizer = new Adam(model.parameters(), { lr: 1e-4, betas: [0.9, 0.98], eps: 1e-9 });
  const rng = new Rng(1);
  const batches = Array.from({ length: 2 }, () => randomBatch(spec, b, rng));
  model.train();
  let step = 0;
  let last: Tensor | null = null;
  try {
    const { ms, calls } = await timed(backend, repeat, () => {
      const batch = batches[step++ % batches.length]!;
      last?.dispose();
      last = tidy(() => {
        optimizer.zeroGrad();
        const loss = model.loss(batch.src, batch.tgtIn, batch.tgtOut, { padId: PAD, labelSmoothing: 0.1 });
        loss.backward();
        optimizer.step();
        return loss;
      });
    });
    return { ms: ms / calls, calls, loss: last === null ? NaN : await (last as Tensor).itemAsync() };
  } finally {
    (last as Tensor | null)?.dispose();
    for (const x of batches) { x.src.dispose(); x.tgtIn.dispose(); x.tgtOut.dispose(); }
    disposeModel(model);
  }
}

/** One row: tokens/s of `b` sequences on `backend`, or the error that stopped it. */
async function row(name: string, backend: Backend, spec: ModelSpec, b: number, repeat: Repeat): Promise<Row & { tokens_per_s: number | null }> {
  const base = { backend: name, model: describe(spec), batch: `${b}x${spec.src}/${spec.tgt}`, target_tokens_per_step: b * spec.tgt };
  try {
    const r = await trainOn(backend, spec, b, repeat);
    const tokensPerS = (b * spec.tgt) / (r.ms / 1000);
    return { ...base, steps: r.calls, ms_per_step: round(r.ms), tokens_per_s: round(tokensPerS),
      tflops: round(trainingFlops({ ...spec, batch: b }) / (r.ms / 1000) / 1e12), loss: round(r.loss), error: null };
  } catch (err) {
    return { ...base, steps: 0, ms_per_step: null, tokens_per_s: null, tflops: null, loss: null, error: message(err) };
  }
}

export const trainSection: Section = {
  title: 'training tokens/s',
  async run({ gpu, native, quick }: Context): Promise<Row[]> {
    const spec = quick ? QUICK : FULL;
    let gpuRow = await row('webgpu', gpu, spec, spec.batch, quick ? QUICK_REPEAT : GPU_REPEAT);
    if (gpuRow.tokens_per_s === null && !quick) { // e.g. the logits (tokens x vocab) over a buffer limit: half the batch
      const half = await row('webgpu', gpu, spec, spec.batch / 2, GPU_REPEAT);
      gpuRow = { ...half, error: `full batch failed (${String(gpuRow.error)}); this row is half the batch` };
    }
    const rows = [gpuRow];
    if (native !== null) rows.push(await row('native', native, spec, quick ? spec.batch : Math.round(spec.batch / NATIVE_DIVISOR), quick ? QUICK_REPEAT : NATIVE_REPEAT));
    const nativeTps = rows[1]?.tokens_per_s ?? null;
    return rows.map((r) => ({
      ...r,
      vs_paper_8xP100: r.tokens_per_s === null ? null : round(r.tokens_per_s / PAPER_TOKENS_PER_S),
      vs_native: r.tokens_per_s === null || nativeTps === null ? null : round(r.tokens_per_s / nativeTps),
    }));
  },
};
