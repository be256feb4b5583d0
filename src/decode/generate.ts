// Autoregressive generation with a decoder-only model (Radford et al. 2019 §2: p(x) = prod_i p(s_i | s_1..s_{i-1})):
// the prompt fills the key/value caches in one pass through the modules, then each new token is one cached step:
// one call of the backend's fused decoder step (the translation decoder's, without encoder-decoder attention)
// where its guard accepts the model, else the cached modules.

import type { Gpt } from '../models/gpt.js';
import { clearCache } from '../nn/attention.js';
import { noGrad } from '../tensor/autograd.js';
import { tidy } from '../tensor/memory.js';
import { tensor } from '../tensor/ops/create.js';
import { logSoftmax } from '../tensor/ops/nn.js';
import { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { FusedDecoderStep, gptStepApplies } from './fused-step.js';
import { sampleToken } from './sampling.js';

/** Generation controls: temperature 0 picks the most likely token; topK 0 and topP 1 are off. */
export interface GenerateOptions {
  maxNewTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  rng?: Rng;
  /** Stop after emitting this id (e.g. <|endoftext|>). */
  stopId?: number;
  /**
   * When the context is full, keep going on its last maxLen - 1 tokens (recomputed, as nanoGPT's sample crops its
   * context) instead of stopping.
   */
  slide?: boolean;
}

/** Checks a prompt against the model's vocabulary and context; the errors name the token or the lengths. */
export function checkPrompt(model: Gpt, prompt: readonly number[]): void {
  const { vocabSize, maxLen } = model.config;
  if (prompt.length === 0) throw new Error('generate: the prompt is empty; give at least one token');
  if (prompt.length > maxLen) throw new Error(`generate: the prompt has ${prompt.length} tokens, more than the model's context of ${maxLen}`);
  prompt.forEach((id, i) => {
    if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) throw new Error(`generate: token id ${id} at position ${i} is outside the vocabulary [0, ${vocabSize})`);
  });
}

/** The index of the largest value of a row. */
function argmax(row: Float32Array): number {
  let best = 0;
  for (let v = 1; v < row.length; v++) if (row[v]! > row[best]!) best = v;
  return best;
}

/**
 * Yields new token ids one at a time after `prompt`, using key/value caches; stops after maxNewTokens, after
 * stopId, or when the context is full (unless opts.slide). The model runs in eval mode and is put back as it was.
 */
export async function* generate(model: Gpt, prompt: readonly number[], opts: GenerateOptions): AsyncGenerator<number> {
  checkPrompt(model, prompt);
  if (opts.maxNewTokens < 1) return;
  const V = model.config.vocabSize;
  const rng = opts.rng ?? new Rng(0);
  const temperature = opts.temperature ?? 1;
  const wasTraining = model.training;
  const caches = model.emptyCache();
  model.eval();
  const fused = gptStepApplies(model) ? FusedDecoderStep.forGpt(model) : null;
  /** Log-probabilities [1, V] of the token after `ids` (appended to the caches). */
  const next = (ids: readonly number[]): Tensor => {
    const stepped = ids.length === 1 && fused !== null ? tidy(() => fused.step(Int32Array.from(ids), caches, null)) : null;
    return stepped ?? tidy(() => noGrad(() => {
      const logits = model.forward(tensor(Int32Array.from(ids), [1, ids.length], 'int32'), caches); // (1, T, V)
      return logSoftmax(logits.slice(1, ids.length - 1, ids.length).reshape([1, V]), -1);
    }));
  };
  try {
    const maxLen = model.config.maxLen;
    const sequence = [...prompt];
    let logp = next(prompt);
    for (let produced = 0; ; ) {
      const row = (await logp.data()) as Float32Array;
      logp.dispose();
      const id = temperature === 0 ? argmax(row) : sampleToken(row, 0, V, opts, rng);
      yield id;
      produced++;
      sequence.push(id);
      if (produced >= opts.maxNewTokens || id === opts.stopId || (sequence.length >= maxLen && opts.slide !== true)) return;
      if (sequence.length < maxLen) { logp = next([id]); continue; }
      for (const c of caches) clearCache(c); // the context is full: start again on its last maxLen - 1 tokens
      logp = next(sequence.slice(sequence.length - (maxLen - 1)));
    }
  } finally {
    for (const c of caches) clearCache(c);
    model.train(wasTraining);
  }
}
