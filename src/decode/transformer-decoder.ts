// The IncrementalDecoder of a trained Transformer: encodes a batch of sources once, then feeds each live
// hypothesis's prefix to the decoder and returns log-probabilities of the next token (§3.1, autoregressive).

import { padMaskFromIds } from '../nn/masks.js';
import type { Transformer } from '../models/transformer.js';
import { clearCache } from '../nn/attention.js';
import { reorderCaches, type LayerCache } from '../nn/decoder.js';
import { noGrad } from '../tensor/autograd.js';
import { tidy } from '../tensor/memory.js';
import { tensor } from '../tensor/ops/create.js';
import { embedding, logSoftmax } from '../tensor/ops/nn.js';
import { Tensor } from '../tensor/tensor.js';
import { FusedDecoderStep, fusedStepApplies } from './fused-step.js';
import type { IncrementalDecoder } from './types.js';

/** Pads token lists into a [B, S] int32 tensor. */
export function padBatch(rows: readonly ArrayLike<number>[], padId: number): Tensor {
  const S = Math.max(1, ...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * S).fill(padId);
  rows.forEach((r, i) => ids.set(r, i * S));
  return tensor(ids, [rows.length, S], 'int32');
}

/**
 * Decodes a Transformer one token per step with key/value caches: decoder self-attention appends the new
 * position's keys and values, encoder-decoder attention projects the memory once. Rows follow `select`, so
 * beam search can duplicate and drop hypotheses; caches, memory and padding rows are gathered to match.
 */
export class TransformerDecoder implements IncrementalDecoder {
  readonly vocabSize: number;
  private memory: Tensor; // (n, S, d), kept
  private srcPad: Tensor; // (n, S) 1 = pad, kept
  private readonly caches: LayerCache[];
  private fused: FusedDecoderStep | null = null;

  /** `sources` are token ids with eos appended (what the model was trained on). */
  constructor(private readonly model: Transformer, sources: readonly ArrayLike<number>[], padId: number) {
    this.vocabSize = model.config.tgtVocab;
    this.caches = model.decoderCache();
    const { memory, srcPad } = tidy(() => noGrad(() => {
      const src = padBatch(sources, padId);
      const pad = padMaskFromIds(src, padId);
      const encoded = model.encode(src, pad);
      model.transformer.decoder.cacheMemory(encoded, this.caches);
      return { memory: encoded, srcPad: pad };
    }));
    this.memory = memory.keep();
    this.srcPad = srcPad.keep();
  }

  /** Log-probabilities [n, V] of the next token of each row, on the backend. */
  step(lastTokens: Int32Array): Tensor {
    const n = this.memory.shape[0]!;
    if (lastTokens.length !== n) throw new Error(`decoder step: got ${lastTokens.length} tokens for ${n} rows`);
    if (n === 0) return Tensor.empty([0, this.vocabSize]);
    if (fusedStepApplies(this.model)) { // one backend call per step
      this.fused ??= FusedDecoderStep.forTransformer(this.model);
      const fused = this.fused;
      const memory = { caches: this.caches.map((c) => c.cross), srcPad: this.srcPad };
      const out = tidy(() => fused.step(lastTokens, this.caches.map((c) => c.self), memory));
      if (out !== null) return out;
    }
    return tidy(() => noGrad(() => {
      const tgt = tensor(lastTokens, [n, 1], 'int32');
      const logits = this.model.decode(tgt, this.memory, { srcPadMask: this.srcPad }, this.caches); // (n, 1, V)
      return logSoftmax(logits.reshape([n, this.vocabSize]), -1);
    }));
  }

  /** Keeps rows by index (beam reordering). */
  select(indices: Int32Array): void {
    if (indices.length === 0) { this.dispose(); this.caches.length = 0; this.memory = Tensor.empty([0, ...this.memory.shape.slice(1)]); return; }
    const [n, S, d] = this.memory.shape as [number, number, number];
    const gathered = tidy(() => noGrad(() => {
      const rows = tensor(indices, [indices.length], 'int32');
      return {
        memory: embedding(this.memory.reshape([n, S * d]), rows).reshape([indices.length, S, d]),
        srcPad: embedding(this.srcPad, rows),
      };
    }));
    this.memory.dispose();
    this.srcPad.dispose();
    this.memory = gathered.memory.keep();
    this.srcPad = gathered.srcPad.keep();
    tidy(() => reorderCaches(this.caches, indices));
  }

  /** Frees the encoder output and the caches. */
  dispose(): void {
    this.memory.dispose();
    this.srcPad.dispose();
    for (const c of this.caches) { clearCache(c.self); clearCache(c.cross); }
  }
}
