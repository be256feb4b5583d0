// The decoder-only Transformer of GPT (Radford et al. 2018 §3.1: h_0 = U W_e + W_p, h_l = transformer_block(h_{l-1}),
// P(u) = softmax(h_n W_e^T)) and GPT-2 (Radford et al. 2019 §2.3: LayerNorm moved to the input of each sub-block,
// a final LayerNorm after the last block, residual projections initialised scaled by 1/sqrt(N) for N residual
// layers). Each block is the paper's encoder layer (self-attention + FFN, src/nn/encoder.ts) under a causal mask
// (§3.2.3 of Vaswani et al.); positions are learned (2018 §3.1), the LM head is the token embedding (tied).
// Module names follow GPT-2's (wte, wpe, h.i, ln_f); src/io/hf-gpt2.ts maps the blocks' inner names.

import { emptyCache, type KVCache } from '../nn/attention.js';
import { Dropout } from '../nn/dropout.js';
import { Embedding } from '../nn/embedding.js';
import { EncoderLayer, type LayerOptions } from '../nn/encoder.js';
import { normalInPlace } from '../nn/init.js';
import { LayerNorm } from '../nn/layernorm.js';
import { Linear, linear } from '../nn/linear.js';
import { causalMask } from '../nn/masks.js';
import { Module, ModuleList } from '../nn/module.js';
import { LearnedPositionalEncoding } from '../nn/positional.js';
import { linearCrossEntropy } from '../tensor/ops/nn.js';
import { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { validateGptConfig, type GptConfig } from './gpt-config.js';

/** GPT-2's initialisation: N(0, 0.02) weights and embeddings, zero biases, residual projections 0.02/sqrt(2 N_layers). */
function initGpt2(model: Gpt, rng: Rng): void {
  const residualStd = 0.02 / Math.sqrt(2 * model.config.layers);
  for (const [name, p] of model.namedParameters()) {
    if (/norm|ln_f/.test(name)) continue; // LayerNorm gains 1, biases 0 already
    if (p.rank === 1) p.assign(new Float32Array(p.size));
    else normalInPlace(p, /out_proj\.weight$|linear2\.weight$/.test(name) ? residualStd : 0.02, rng);
  }
}

/** A decoder-only language model: token + learned position embeddings, N causal blocks, (final LN), tied LM head. */
export class Gpt extends Module {
  readonly config: GptConfig;
  readonly wte: Embedding;
  readonly wpe: LearnedPositionalEncoding;
  readonly drop: Dropout;
  readonly h: ModuleList<EncoderLayer>;
  readonly lnF: LayerNorm | null;
  readonly lmHead: Linear | null;
  /** The generator of dropout masks (and of the initial weights). */
  readonly rng: Rng;

  constructor(config: GptConfig) {
    super();
    validateGptConfig(config);
    this.config = { ...config };
    const rng = (this.rng = new Rng(config.seed));
    const d = config.dModel;
    this.wte = this.addModule('wte', new Embedding(config.vocabSize, d, rng));
    this.wpe = this.addModule('wpe', new LearnedPositionalEncoding(d, config.maxLen, rng));
    this.drop = this.addModule('drop', new Dropout(config.dropout, rng));
    const layer: LayerOptions = {
      dModel: d, h: config.h, dFF: config.dFF, dropout: config.dropout, attentionDropout: config.attentionDropout,
      activation: config.activation, attention: 'scaled-dot', normFirst: config.normFirst, layerNormEps: config.layerNormEps, rng,
    };
    this.h = this.addModule('h', new ModuleList(Array.from({ length: config.layers }, () => new EncoderLayer(layer))));
    this.lnF = config.finalNorm ? this.addModule('ln_f', new LayerNorm(d, config.layerNormEps)) : null;
    this.lmHead = config.tiedHead ? null : this.addModule('lm_head', new Linear(d, config.vocabSize, { bias: false, rng }));
    initGpt2(this, rng);
  }

  /** The LM head's weight [V, d]: the token embedding when tied. */
  headWeight(): Tensor { return this.lmHead?.weight ?? this.wte.weight; }

  /** Empty key/value caches, one per block, for generation. */
  emptyCache(): KVCache[] { return this.h.items.map(() => emptyCache('append')); }

  /**
   * ids (B, T) int32 -> the last block's states (B, T, d) after ln_f. With caches (no gradients), ids hold only the
   * new positions, which follow the cached ones. Padding goes on the right: the causal mask keeps it out of every
   * earlier position.
   */
  hidden(ids: Tensor, caches?: KVCache[]): Tensor {
    const t = ids.shape[1]!;
    const past = caches?.[0]?.k?.shape[2] ?? 0;
    if (past + t > this.config.maxLen) throw new Error(`GPT: positions ${past}..${past + t - 1} exceed the context of ${this.config.maxLen} tokens`);
    const mask = t === 1 ? undefined : causalMask(t, past); // (T, past + T)
    let y = this.drop.forward(this.wpe.forward(this.wte.forward(ids), past)); // (B, T, d): U W_e + W_p
    this.h.items.forEach((block, i) => { y = block.forward(y, mask, caches?.[i]); });
    return this.lnF === null ? y : this.lnF.forward(y);
  }

  /** ids (B, T) int32 -> next-token logits (B, T, V). */
  forward(ids: Tensor, caches?: KVCache[]): Tensor {
    return linear(this.hidden(ids, caches), this.headWeight(), null); // (B, T, V)
  }

  /** Mean next-token cross entropy of the predictions for ids (B, T) against targets (B, T), targets == ignoreIndex skipped. */
  loss(ids: Tensor, targets: Tensor, opts: { ignoreIndex?: number } = {}): Tensor {
    return linearCrossEntropy(this.hidden(ids), this.headWeight(), null, targets, { ignoreIndex: opts.ignoreIndex ?? -100 });
  }
}
