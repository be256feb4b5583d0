// The decoder (§3.1): N identical layers, each masked multi-head self-attention (the causal mask keeps
// position i from seeing later positions), multi-head attention over the encoder output, and the
// position-wise FFN, each wrapped in a residual connection and layer normalisation. Names follow
// torch.nn.TransformerDecoder (self_attn, multihead_attn, norm1..3, norm).

import { concat } from '../tensor/ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { emptyCache, MultiHeadAttention, setCacheBuffers, type KVCache } from './attention.js';
import { Dropout } from './dropout.js';
import type { LayerOptions } from './encoder.js';
import { PositionwiseFeedForward } from './feedforward.js';
import { LayerNorm } from './layernorm.js';
import { Module, ModuleList } from './module.js';
import { residual } from './sublayer.js';

/** Masks of one decoder pass: selfMask (causal + target padding), memoryMask (source padding). */
export interface DecoderMasks { selfMask?: Tensor; memoryMask?: Tensor; }

/** The caches of one decoder layer for incremental decoding. */
export interface LayerCache { self: KVCache; cross: KVCache; }

/** Keeps batch rows `indices` (repeats allowed) of every cached key and value, e.g. to follow beam search. */
export function reorderCaches(caches: readonly LayerCache[], indices: ArrayLike<number>): void {
  const pick = (t: Tensor): Tensor => concat(Array.from(indices, (i) => t.slice(0, i, i + 1)), 0); // (n, h, L, dK)
  for (const c of caches) {
    for (const kv of [c.self, c.cross]) {
      if (kv.k === null || kv.v === null) continue;
      if (kv.kBuf !== undefined && kv.vBuf !== undefined) {  // an 'append' cache: its buffers, spare capacity too
        setCacheBuffers(kv, pick(kv.kBuf), pick(kv.vBuf), kv.k.shape[2]!);
        continue;
      }
      const [k, v] = [pick(kv.k), pick(kv.v)];
      kv.k.dispose();
      kv.v.dispose();
      kv.k = k.keep();
      kv.v = v.keep();
    }
  }
}

/**
 * The sublayers of a decoder layer, in order (§3.1). This is the one list to extend: DecoderLayer.forward runs
 * exactly these, and the fused decoder steps (backend/ts/decoder-step.ts, native/kernels/decoder_step.cc, which list
 * theirs as backend.ts's DECODER_STEP_SUBLAYERS) refuse a layer whose list differs, so decoding falls back to
 * these modules until the kernels learn the new sublayer.
 */
export const DECODER_SUBLAYERS = ['selfAttention', 'crossAttention', 'feedForward'] as const;

/** One decoder layer: masked self-attention, encoder-decoder attention, FFN. */
export class DecoderLayer extends Module {
  readonly selfAttn: MultiHeadAttention;
  readonly crossAttn: MultiHeadAttention;
  readonly feedForward: PositionwiseFeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;
  readonly dropout: Dropout;

  constructor(readonly opts: LayerOptions) {
    super();
    const { dModel, rng } = opts;
    const attn = { dropout: opts.attentionDropout, attention: opts.attention, rng };
    this.selfAttn = this.addModule('self_attn', new MultiHeadAttention(dModel, opts.h, attn));
    this.crossAttn = this.addModule('multihead_attn', new MultiHeadAttention(dModel, opts.h, attn));
    this.feedForward = this.addModule('feed_forward', new PositionwiseFeedForward(dModel, opts.dFF, opts.activation, opts.dropout, rng));
    this.norm1 = this.addModule('norm1', new LayerNorm(dModel, opts.layerNormEps));
    this.norm2 = this.addModule('norm2', new LayerNorm(dModel, opts.layerNormEps));
    this.norm3 = this.addModule('norm3', new LayerNorm(dModel, opts.layerNormEps));
    this.dropout = this.addModule('dropout', new Dropout(opts.dropout, rng));
  }

  /** x (B, T, d), memory (B, S, d) -> (B, T, d); with a cache, x holds only the new positions. */
  forward(x: Tensor, memory: Tensor, masks: DecoderMasks = {}, cache?: LayerCache): Tensor {
    const sublayers: Record<(typeof DECODER_SUBLAYERS)[number], [LayerNorm, (z: Tensor) => Tensor]> = {
      selfAttention: [this.norm1, (z) => this.selfAttn.forward(z, z, z, masks.selfMask, cache?.self)],
      crossAttention: [this.norm2, (z) => this.crossAttn.forward(z, memory, memory, masks.memoryMask, cache?.cross)],
      feedForward: [this.norm3, (z) => this.feedForward.forward(z)],
    };
    return DECODER_SUBLAYERS.reduce((y, name) => residual(y, sublayers[name][0], this.dropout, this.opts.normFirst, sublayers[name][1]), x);
  }
}

/** N decoder layers and an optional final LayerNorm (`norm`, as torch.nn.TransformerDecoder). */
export class Decoder extends Module {
  readonly layers: ModuleList<DecoderLayer>;
  readonly norm: LayerNorm | null;

  constructor(n: number, opts: LayerOptions, finalNorm: boolean) {
    super();
    this.layers = this.addModule('layers', new ModuleList(Array.from({ length: n }, () => new DecoderLayer(opts))));
    this.norm = finalNorm ? this.addModule('norm', new LayerNorm(opts.dModel, opts.layerNormEps)) : null;
  }

  /** Empty caches, one per layer, for incremental decoding. */
  emptyCache(): LayerCache[] {
    return this.layers.items.map(() => ({ self: emptyCache('append'), cross: emptyCache('static') }));
  }

  /** Fills every layer's encoder-decoder cache with the keys and values of memory (B, S, d). */
  cacheMemory(memory: Tensor, caches: readonly LayerCache[]): void {
    this.layers.items.forEach((layer, i) => layer.crossAttn.cacheMemory(memory, memory, caches[i]!.cross));
  }

  /** x (B, T, d), memory (B, S, d) -> (B, T, d); with caches, x holds only the new positions. */
  forward(x: Tensor, memory: Tensor, masks: DecoderMasks = {}, caches?: LayerCache[]): Tensor {
    let y = x;
    this.layers.items.forEach((layer, i) => { y = layer.forward(y, memory, masks, caches?.[i]); });
    return this.norm === null ? y : this.norm.forward(y);
  }
}
