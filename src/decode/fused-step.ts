// A decoding step in one backend call (the decoderStep fused path): the same arithmetic as the cached modules
// (§3.1, §3.2.3), without one tensor op per projection, norm and softmax. Two models step through it: the
// Transformer's decoder (TransformerDecoder, once the caches hold the memory's keys and values) and a decoder-only
// GPT (generate), whose blocks are the same step without encoder-decoder attention. Each applies in eval mode,
// with the paper's scaled dot-product attention, no attention being recorded and a backend whose path accepts
// the step; otherwise the caller steps through the modules.

import { getBackend, type DecoderStepArgs, type DecoderStepLayer, type DecoderStepPath, type DecoderStepToken, type Dense } from '../backend/index.js';
import type { Gpt } from '../models/gpt.js';
import type { Transformer } from '../models/transformer.js';
import { reserveCache, setCacheBuffers, type KVCache, type MultiHeadAttention } from '../nn/attention.js';
import { DECODER_SUBLAYERS } from '../nn/decoder.js';
import { ENCODER_SUBLAYERS } from '../nn/encoder.js';
import type { PositionwiseFeedForward } from '../nn/feedforward.js';
import type { LayerNorm } from '../nn/layernorm.js';
import { isContiguous } from '../tensor/layout.js';
import { Tensor } from '../tensor/tensor.js';

/** A contiguous tensor as a kernel operand (no copy). */
function dense(t: Tensor): Dense {
  if (!isContiguous(t.shape, t.strides)) throw new Error(`fused decoder step: tensor [${t.shape.join(', ')}] is not contiguous`);
  return t.dense('fused decoder step');
}

/** Whether the Transformer's mode and modules allow the fused step (the backend's path then judges the operands). */
export function fusedStepApplies(model: Transformer): boolean {
  return !model.training && model.config.attention === 'scaled-dot' && getBackend().fused.decoderStep !== undefined
    && model.transformer.decoder.layers.items.every((l) => !l.selfAttn.recordWeights && !l.crossAttn.recordWeights);
}

/** Whether a GPT's mode and blocks allow the fused step. */
export function gptStepApplies(model: Gpt): boolean {
  return !model.training && getBackend().fused.decoderStep !== undefined && model.h.items.every((b) => !b.selfAttn.recordWeights);
}

/** The parameters of a layer as the decoder step reads them (caches filled in per step). */
type LayerWeights = Omit<DecoderStepLayer, 'selfK' | 'selfV' | 'crossK' | 'crossV'>;

/** What the step reads of a model besides the caches: shapes, options and weights. */
interface StepModel {
  sublayers: readonly string[]; normFirst: boolean; activation: string; eps: number;
  dModel: number; heads: number; dFF: number; vocab: number;
  layers: LayerWeights[];
  /** Token embedding [V', d] scaled by embedScale, plus positions [maxLen, d]. */
  embedding: Tensor; embedScale: number; positional: Tensor;
  finalNorm: LayerNorm | null;
  generatorW: Tensor; generatorB: Tensor | null;
}

/** The memory's side of a step: each layer's cached keys and values of the memory, and the source padding (n, S). */
export interface StepMemory { caches: readonly KVCache[]; srcPad: Tensor; }

/** Whether two lists hold the same tensors in the same order. */
function sameTensors(a: readonly Tensor[], b: readonly Tensor[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** A model's weights, viewed once per decode, stepped token by token. */
export class FusedDecoderStep {
  /** The backend's step bound to `bound` (null: its path refused them), run token by token while they stay the same. */
  private run: ((token: DecoderStepToken) => void) | null = null;
  /** The tensors the step is bound to: source padding (with a memory), then each layer's self-attention buffers and memory keys and values. */
  private bound: Tensor[] = [];
  /** The path `run` came from (a change of backend binds again). */
  private path: DecoderStepPath | null = null;

  private constructor(private readonly model: StepModel) {}

  /** The Transformer's decoder (§3.1): self-attention, encoder-decoder attention and FFN per layer. */
  static forTransformer(model: Transformer): FusedDecoderStep {
    const c = model.config;
    return new FusedDecoderStep({
      sublayers: DECODER_SUBLAYERS, normFirst: c.normFirst, activation: c.activation, eps: c.layerNormEps,
      dModel: c.dModel, heads: c.h, dFF: c.dFF, vocab: c.tgtVocab,
      layers: model.transformer.decoder.layers.items.map((l) => ({
        ...attentionAndFfn(l.selfAttn, l.feedForward, l.norm1, l.norm3),
        crossQW: dense(l.crossAttn.inProjWeight), crossQB: dense(l.crossAttn.inProjBias), // W^Q: the first d rows of in_proj
        crossOutW: dense(l.crossAttn.outProj.weight), crossOutB: dense(l.crossAttn.outProj.bias!),
        norm2G: dense(l.norm2.weight), norm2B: dense(l.norm2.bias),
      })),
      embedding: model.tgtTokEmb.embedding.weight, embedScale: Math.sqrt(c.dModel), positional: model.positionalEncoding.table(),
      finalNorm: model.transformer.decoder.norm, generatorW: model.generator.weight, generatorB: model.generator.bias,
    });
  }

  /** A GPT (Radford et al. 2018, 2019): self-attention and FFN per block, learned positions, the (tied) LM head. */
  static forGpt(model: Gpt): FusedDecoderStep {
    const c = model.config;
    return new FusedDecoderStep({
      sublayers: ENCODER_SUBLAYERS, normFirst: c.normFirst, activation: c.activation, eps: c.layerNormEps,
      dModel: c.dModel, heads: c.h, dFF: c.dFF, vocab: c.vocabSize,
      layers: model.h.items.map((b) => ({
        ...attentionAndFfn(b.selfAttn, b.feedForward, b.norm1, b.norm2),
        crossQW: null, crossQB: null, crossOutW: null, crossOutB: null, norm2G: null, norm2B: null,
      })),
      embedding: model.wte.weight, embedScale: 1, positional: model.wpe.table(),
      finalNorm: model.lnF, generatorW: model.headWeight(), generatorB: null,
    });
  }

  /** Operands viewing `bound`, with this token's fields. */
  private operands(bound: Tensor[], n: number, srcLen: number, withMemory: boolean, token: DecoderStepToken): DecoderStepArgs {
    const m = this.model;
    const first = withMemory ? 1 : 0;
    const per = withMemory ? 4 : 2;
    return {
      ...token, positional: dense(m.positional), rows: n, dModel: m.dModel, heads: m.heads, dFF: m.dFF, vocab: m.vocab, srcLen,
      capacity: bound[first]!.shape[2]!, sublayers: m.sublayers, normFirst: m.normFirst, activation: m.activation, eps: m.eps,
      embedding: dense(m.embedding), embedScale: m.embedScale, srcPad: withMemory ? dense(bound[0]!) : null,
      layers: m.layers.map((w, i) => {
        const at = first + per * i;
        return { ...w, selfK: dense(bound[at]!), selfV: dense(bound[at + 1]!),
          crossK: withMemory ? dense(bound[at + 2]!) : null, crossV: withMemory ? dense(bound[at + 3]!) : null };
      }),
      finalNorm: m.finalNorm === null ? null : { gamma: dense(m.finalNorm.weight), beta: dense(m.finalNorm.bias) },
      generatorW: dense(m.generatorW), generatorB: m.generatorB === null ? null : dense(m.generatorB),
    };
  }

  /**
   * Log-probabilities [n, V] of the next token after `lastTokens` (n), given self-attention caches that hold
   * `past` positions (and, for the Transformer, the memory's keys and values with the source padding); appends
   * this position to the caches. Null, with the caches as they were, when the backend's path refuses the step
   * (the caller steps through the modules).
   */
  step(lastTokens: Int32Array, selfCaches: readonly KVCache[], memory: StepMemory | null): Tensor | null {
    const path = getBackend().fused.decoderStep;
    if (path === undefined) return null;
    const m = this.model;
    const n = lastTokens.length;
    const srcLen = memory === null ? 0 : memory.srcPad.shape[1]!;
    const past = selfCaches[0]!.k?.shape[2] ?? 0;
    const maxLen = m.positional.shape[0]!;
    if (past >= maxLen) throw new Error(`decoder step: position ${past} exceeds maxLen ${maxLen}`);
    const dK = m.dModel / m.heads;
    const buffers = selfCaches.map((cache) => reserveCache(cache, [n, m.heads, past + 1, dK]));
    const bound = memory === null ? [] : [memory.srcPad];
    selfCaches.forEach((_, i) => {
      bound.push(buffers[i]!.kBuf, buffers[i]!.vBuf);
      if (memory !== null) bound.push(memory.caches[i]!.k!, memory.caches[i]!.v!);
    });
    const out = Tensor.empty([n, m.vocab]); // (n, V)
    const token: DecoderStepToken = { past, ids: lastTokens, out: out.dense() };
    if (path !== this.path || !sameTensors(bound, this.bound)) {
      const args = this.operands(bound, n, srcLen, memory !== null, token);
      this.run = path.refuses(args) === null ? path.bind(args) : null;
      [this.path, this.bound] = [path, bound];
    }
    if (this.run === null) {
      out.dispose();
      return null;
    }
    this.run(token);
    selfCaches.forEach((cache, i) => setCacheBuffers(cache, buffers[i]!.kBuf, buffers[i]!.vBuf, past + 1));
    return out;
  }
}

/** A layer's self-attention, FFN and their norms as the step reads them (normSelf before or after attention, normFfn the FFN's). */
function attentionAndFfn(attn: MultiHeadAttention, ff: PositionwiseFeedForward, normSelf: LayerNorm, normFfn: LayerNorm):
  Omit<LayerWeights, 'crossQW' | 'crossQB' | 'crossOutW' | 'crossOutB' | 'norm2G' | 'norm2B'> {
  return {
    selfInW: dense(attn.inProjWeight), selfInB: dense(attn.inProjBias), selfOutW: dense(attn.outProj.weight), selfOutB: dense(attn.outProj.bias!),
    ff1W: dense(ff.linear1.weight), ff1B: dense(ff.linear1.bias!), ff2W: dense(ff.linear2.weight), ff2B: dense(ff.linear2.bias!),
    norm1G: dense(normSelf.weight), norm1B: dense(normSelf.bias), norm3G: dense(normFfn.weight), norm3B: dense(normFfn.bias),
  };
}
