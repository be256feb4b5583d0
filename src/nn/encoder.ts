// The encoder (§3.1): a stack of N identical layers, each a multi-head self-attention sub-layer and a
// position-wise feed-forward sub-layer, each wrapped in a residual connection and layer normalisation.
// Parameter names follow torch.nn.TransformerEncoder (layers.i.self_attn, norm1, norm2, norm), except that
// the FFN sits in `feed_forward` (src/io/torch-names.ts maps it to linear1 / linear2).

import type { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AttentionKind, KVCache } from './attention.js';
import { MultiHeadAttention } from './attention.js';
import { Dropout } from './dropout.js';
import { PositionwiseFeedForward, type Activation } from './feedforward.js';
import { LayerNorm } from './layernorm.js';
import { Module, ModuleList } from './module.js';
import { residual } from './sublayer.js';

/** What one encoder or decoder layer is built from. */
export interface LayerOptions {
  dModel: number;
  h: number;
  dFF: number;
  /** Residual and FFN dropout (P_drop). */
  dropout: number;
  /** Dropout on attention weights. */
  attentionDropout: number;
  /** Dropout on the FFN's hidden activation (default `dropout`, as torch; BERT has none there: 0). */
  activationDropout?: number;
  activation: Activation;
  attention: AttentionKind;
  normFirst: boolean;
  layerNormEps: number;
  rng: Rng;
}

/**
 * The sublayers of an encoder layer, in order (§3.1). The one list to extend: EncoderLayer.forward runs exactly
 * these, and the fused decoder steps, which serve GPT's blocks (backend.ts's DECODER_ONLY_STEP_SUBLAYERS), refuse
 * a layer whose list differs, so generation falls back to these modules until the kernels learn the new sublayer.
 */
export const ENCODER_SUBLAYERS = ['selfAttention', 'feedForward'] as const;

/** One encoder layer: self-attention then FFN, each with residual + LayerNorm. */
export class EncoderLayer extends Module {
  readonly selfAttn: MultiHeadAttention;
  readonly feedForward: PositionwiseFeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout: Dropout;

  constructor(readonly opts: LayerOptions) {
    super();
    const { dModel, rng } = opts;
    this.selfAttn = this.addModule('self_attn', new MultiHeadAttention(dModel, opts.h, { dropout: opts.attentionDropout, attention: opts.attention, rng }));
    this.feedForward = this.addModule('feed_forward', new PositionwiseFeedForward(dModel, opts.dFF, opts.activation, opts.activationDropout ?? opts.dropout, rng));
    this.norm1 = this.addModule('norm1', new LayerNorm(dModel, opts.layerNormEps));
    this.norm2 = this.addModule('norm2', new LayerNorm(dModel, opts.layerNormEps));
    this.dropout = this.addModule('dropout', new Dropout(opts.dropout, rng));
  }

  /**
   * x (B, S, d), mask additive (B, 1, 1, S) or (S, S) -> (B, S, d). With an 'append' cache (a decoder-only model
   * generating, e.g. GPT), x holds only the new positions and the keys and values of earlier ones are reused.
   */
  forward(x: Tensor, mask?: Tensor, cache?: KVCache): Tensor {
    const sublayers: Record<(typeof ENCODER_SUBLAYERS)[number], [LayerNorm, (z: Tensor) => Tensor]> = {
      selfAttention: [this.norm1, (z) => this.selfAttn.forward(z, z, z, mask, cache)],
      feedForward: [this.norm2, (z) => this.feedForward.forward(z)],
    };
    return ENCODER_SUBLAYERS.reduce((y, name) => residual(y, sublayers[name][0], this.dropout, this.opts.normFirst, sublayers[name][1]), x);
  }
}

/** N encoder layers and an optional final LayerNorm (`norm`, as torch.nn.TransformerEncoder). */
export class Encoder extends Module {
  readonly layers: ModuleList<EncoderLayer>;
  readonly norm: LayerNorm | null;

  constructor(n: number, opts: LayerOptions, finalNorm: boolean) {
    super();
    this.layers = this.addModule('layers', new ModuleList(Array.from({ length: n }, () => new EncoderLayer(opts))));
    this.norm = finalNorm ? this.addModule('norm', new LayerNorm(opts.dModel, opts.layerNormEps)) : null;
  }

  /** x (B, S, d) -> memory (B, S, d). */
  forward(x: Tensor, mask?: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers.items) y = layer.forward(y, mask);
    return this.norm === null ? y : this.norm.forward(y);
  }
}
