// The Transformer (§3, Figure 1): token embeddings scaled by sqrt(d_model) (§3.4) plus positional encodings
// (§3.5), dropout on the sums (§5.4), an encoder and a decoder stack (§3.1), and a linear map to logits
// (the pre-softmax transformation, optionally tied to the embeddings, §3.4). Module names coincide with the
// PyTorch translation tutorial's Seq2SeqTransformer (src_tok_emb.embedding, transformer.encoder, generator),
// so its state dict maps over with few renames (src/io/torch-names.ts). Tensors are batch-first.

import type { MultiHeadAttention } from '../nn/attention.js';
import { Dropout } from '../nn/dropout.js';
import { Embedding } from '../nn/embedding.js';
import { Decoder, type LayerCache } from '../nn/decoder.js';
import { Encoder, type LayerOptions } from '../nn/encoder.js';
import { uniformInit, xavierUniformInPlace } from '../nn/init.js';
import { linear } from '../nn/linear.js';
import { causalMask, combineMasks, keyPaddingMask, padMaskFromIds } from '../nn/masks.js';
import { Module } from '../nn/module.js';
import { LearnedPositionalEncoding, SinusoidalPositionalEncoding, type PositionalEncoder } from '../nn/positional.js';
import { zeros } from '../tensor/ops/create.js';
import { linearCrossEntropy } from '../tensor/ops/nn.js';
import { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { validateConfig, type TransformerConfig } from './config.js';

/** Padding of a batch: explicit key padding masks (B, L), nonzero = pad, or a pad id to derive them from. */
export type PadMasks = { srcPadMask?: Tensor; tgtPadMask?: Tensor } | number;

/** Embedding lookup times sqrt(d_model) (§3.4); the table is `embedding.weight`. */
export class TokenEmbedding extends Module {
  readonly embedding: Embedding;

  constructor(vocab: number, readonly dModel: number, rng: Rng) {
    super();
    this.embedding = this.addModule('embedding', new Embedding(vocab, dModel, rng));
  }

  /** ids (B, L) -> (B, L, d). */
  forward(ids: Tensor): Tensor {
    return this.embedding.forward(ids).mul(Math.sqrt(this.dModel));
  }
}

/** The pre-softmax linear map (d -> V); its weight is its own or the target embedding's (tied). */
export class Generator extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(dModel: number, vocab: number, rng: Rng, tiedWeight: Tensor | null) {
    super();
    this.weight = tiedWeight ?? this.addParameter('weight', uniformInit([vocab, dModel], 1 / Math.sqrt(dModel), rng));
    this.bias = this.addParameter('bias', tiedWeight === null ? uniformInit([vocab], 1 / Math.sqrt(dModel), rng) : zeros([vocab]));
  }

  /** (B, T, d) -> logits (B, T, V). */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** The two stacks, named `encoder` and `decoder` as in torch.nn.Transformer. */
export class EncoderDecoder extends Module {
  readonly encoder: Encoder;
  readonly decoder: Decoder;

  constructor(config: TransformerConfig, opts: LayerOptions) {
    super();
    this.encoder = this.addModule('encoder', new Encoder(config.encoderLayers, opts, config.finalNorm));
    this.decoder = this.addModule('decoder', new Decoder(config.decoderLayers, opts, config.finalNorm));
  }
}

/** The encoder-decoder Transformer of Figure 1. */
export class Transformer extends Module {
  readonly config: TransformerConfig;
  readonly srcTokEmb: TokenEmbedding;
  readonly tgtTokEmb: TokenEmbedding;
  readonly positionalEncoding: PositionalEncoder;
  readonly transformer: EncoderDecoder;
  readonly generator: Generator;
  readonly dropout: Dropout;
  /** The generator of dropout masks (and of the initial weights). */
  readonly rng: Rng;

  constructor(config: TransformerConfig) {
    super();
    validateConfig(config);
    this.config = { ...config };
    const rng = (this.rng = new Rng(config.seed));
    const d = config.dModel;
    this.srcTokEmb = this.addModule('src_tok_emb', new TokenEmbedding(config.srcVocab, d, rng));
    this.tgtTokEmb = config.shareEmbeddings === 'all' ? this.srcTokEmb : this.addModule('tgt_tok_emb', new TokenEmbedding(config.tgtVocab, d, rng));
    this.positionalEncoding = this.addModule('positional_encoding', config.positional === 'sinusoidal'
      ? new SinusoidalPositionalEncoding(d, config.maxLen) : new LearnedPositionalEncoding(d, config.maxLen, rng));
    this.dropout = this.addModule('dropout', new Dropout(config.dropout, rng));
    const layer: LayerOptions = {
      dModel: d, h: config.h, dFF: config.dFF, dropout: config.dropout, attentionDropout: config.attentionDropout,
      activation: config.activation, attention: config.attention, normFirst: config.normFirst, layerNormEps: config.layerNormEps, rng,
    };
    this.transformer = this.addModule('transformer', new EncoderDecoder(config, layer));
    const tied = config.shareEmbeddings === 'none' ? null : this.tgtTokEmb.embedding.weight;
    this.generator = this.addModule('generator', new Generator(d, config.tgtVocab, rng, tied));
    // Glorot/Xavier uniform on every matrix, as torch.nn.Transformer and the PyTorch tutorial initialise.
    for (const [, p] of this.namedParameters()) if (p.rank === 2) xavierUniformInPlace(p, rng);
  }

  /** The source and target padding masks (B, L) from PadMasks (undefined when there is no padding info). */
  private padMasks(src: Tensor, tgt: Tensor | null, pad: PadMasks | undefined): { src?: Tensor; tgt?: Tensor } {
    if (pad === undefined) return {};
    if (typeof pad === 'number') return { src: padMaskFromIds(src, pad), tgt: tgt === null ? undefined : padMaskFromIds(tgt, pad) };
    return { src: pad.srcPadMask, tgt: pad.tgtPadMask };
  }

  /** Source ids (B, S) int32 -> memory (B, S, d). srcPadMask (B, S), nonzero = pad. */
  encode(src: Tensor, srcPadMask?: Tensor): Tensor {
    const x = this.dropout.forward(this.positionalEncoding.forward(this.srcTokEmb.forward(src))); // (B, S, d)
    return this.transformer.encoder.forward(x, srcPadMask === undefined ? undefined : keyPaddingMask(srcPadMask));
  }

  /**
   * Target ids (B, T) and memory (B, S, d) -> logits (B, T, V), with the causal mask, optional target padding
   * (tgtPadMask (B, T)) and source padding of the memory (srcPadMask (B, S)). For incremental decoding pass
   * `caches` (from `decoderCache()`, no gradients): tgt then holds only the new positions, which follow the
   * cached ones; target padding is not supported there.
   */
  decode(tgt: Tensor, memory: Tensor, masks: { srcPadMask?: Tensor; tgtPadMask?: Tensor } = {}, caches?: LayerCache[]): Tensor {
    return this.generator.forward(this.decoderOutput(tgt, memory, masks, caches)); // (B, T, V)
  }

  /** decode() before the generator: the decoder stack's output (B, T, d). */
  decoderOutput(tgt: Tensor, memory: Tensor, masks: { srcPadMask?: Tensor; tgtPadMask?: Tensor } = {}, caches?: LayerCache[]): Tensor {
    const t = tgt.shape[1]!;
    const past = caches?.[0]?.self.k?.shape[2] ?? 0;
    const y = this.dropout.forward(this.positionalEncoding.forward(this.tgtTokEmb.forward(tgt), past)); // (B, T, d)
    const tgtPad = masks.tgtPadMask === undefined || caches !== undefined ? undefined : keyPaddingMask(masks.tgtPadMask);
    const selfMask = combineMasks(causalMask(t, past), tgtPad); // (B, 1, T, past + T)
    const memoryMask = masks.srcPadMask === undefined ? undefined : keyPaddingMask(masks.srcPadMask); // (B, 1, 1, S)
    return this.transformer.decoder.forward(y, memory, { selfMask, memoryMask }, caches); // (B, T, d)
  }

  /** Empty key/value caches for incremental decoding with `decode`. */
  decoderCache(): LayerCache[] {
    return this.transformer.decoder.emptyCache();
  }

  /** Every attention layer by role, for inspection (its `lastWeights` once `recordAttention(true)`). */
  attentionLayers(): Array<{ name: string; attention: MultiHeadAttention }> {
    const out: Array<{ name: string; attention: MultiHeadAttention }> = [];
    this.transformer.encoder.layers.items.forEach((l, i) => out.push({ name: `encoder.${i}.self`, attention: l.selfAttn }));
    this.transformer.decoder.layers.items.forEach((l, i) => {
      out.push({ name: `decoder.${i}.self`, attention: l.selfAttn }, { name: `decoder.${i}.cross`, attention: l.crossAttn });
    });
    return out;
  }

  /** Turns recording of the last attention weights (B, h, T, S) on or off in every attention layer. */
  recordAttention(on: boolean): void {
    for (const { attention } of this.attentionLayers()) attention.recordWeights = on;
  }

  /** Source ids (B, S) and target input ids (B, T), int32 -> logits (B, T, V). */
  forward(src: Tensor, tgt: Tensor, pad?: PadMasks): Tensor {
    return this.generator.forward(this.states(src, tgt, pad)); // (B, T, V)
  }

  /** forward() before the generator: encode src, then the decoder stack's output (B, T, d) for tgt. */
  private states(src: Tensor, tgt: Tensor, pad?: PadMasks): Tensor {
    const masks = this.padMasks(src, tgt, pad);
    return this.decoderOutput(tgt, this.encode(src, masks.src), { srcPadMask: masks.src, tgtPadMask: masks.tgt });
  }

  /**
   * The training loss of §5.4: label-smoothed cross entropy (labelSmoothing, default the config's) of the
   * predictions for tgtIn (B, T) against tgtOut (B, T), targets equal to padId ignored, as
   * crossEntropy(forward(src, tgtIn, padId), tgtOut) computes it; the generator runs inside the loss
   * (linearCrossEntropy), so the logits are neither kept beside their gradient nor biased in a pass of their own.
   */
  loss(src: Tensor, tgtIn: Tensor, tgtOut: Tensor, opts: { padId: number; labelSmoothing?: number }): Tensor {
    return linearCrossEntropy(this.states(src, tgtIn, opts.padId), this.generator.weight, this.generator.bias, tgtOut,
      { ignoreIndex: opts.padId, labelSmoothing: opts.labelSmoothing ?? this.config.labelSmoothing });
  }
}
