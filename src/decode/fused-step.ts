// A decoding step of the Transformer in one backend call (the decoderStep fused path): the same arithmetic as
// model.decode on the cached layers (§3.1, §3.2.3), without one tensor op per projection, norm and softmax.
// TransformerDecoder uses it once the caches hold the memory's keys and values, in eval mode, with the
// paper's scaled dot-product attention, no attention being recorded and a backend whose path accepts the
// step; otherwise it steps through the modules.

import { getBackend, type DecoderStepArgs, type DecoderStepLayer, type DecoderStepPath, type DecoderStepToken, type Dense } from '../backend/index.js';
import type { Transformer } from '../models/transformer.js';
import { reserveCache, setCacheBuffers } from '../nn/attention.js';
import { DECODER_SUBLAYERS, type LayerCache } from '../nn/decoder.js';
import { isContiguous } from '../tensor/layout.js';
import { Tensor } from '../tensor/tensor.js';

/** A contiguous tensor as a kernel operand (no copy). */
function dense(t: Tensor): Dense {
  if (!isContiguous(t.shape, t.strides)) throw new Error(`fused decoder step: tensor [${t.shape.join(', ')}] is not contiguous`);
  return t.dense('fused decoder step');
}

/** Whether the model's mode and modules allow the fused step (the backend's path then judges the operands). */
export function fusedStepApplies(model: Transformer): boolean {
  return !model.training && model.config.attention === 'scaled-dot' && getBackend().fused.decoderStep !== undefined
    && model.transformer.decoder.layers.items.every((l) => !l.selfAttn.recordWeights && !l.crossAttn.recordWeights);
}

/** The parameters of the decoder's layers as the decoder step reads them (caches filled in per step). */
type LayerWeights = Omit<DecoderStepLayer, 'selfK' | 'selfV' | 'crossK' | 'crossV'>;

/** Whether two lists hold the same tensors in the same order. */
function sameTensors(a: readonly Tensor[], b: readonly Tensor[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** The model's decoder weights, viewed once per decode. */
export class FusedDecoderStep {
  private readonly layers: LayerWeights[];
  /** The backend's step bound to `bound` (null: its path refused them), run token by token while they stay the same. */
  private run: ((token: DecoderStepToken) => void) | null = null;
  /** The tensors the step is bound to: source padding, then each layer's self-attention buffers and memory keys and values. */
  private bound: Tensor[] = [];
  /** The path `run` came from (a change of backend binds again). */
  private path: DecoderStepPath | null = null;

  constructor(private readonly model: Transformer) {
    this.layers = model.transformer.decoder.layers.items.map((l) => {
      const ff = l.feedForward;
      return {
        selfInW: dense(l.selfAttn.inProjWeight), selfInB: dense(l.selfAttn.inProjBias),
        selfOutW: dense(l.selfAttn.outProj.weight), selfOutB: dense(l.selfAttn.outProj.bias!),
        crossQW: dense(l.crossAttn.inProjWeight), crossQB: dense(l.crossAttn.inProjBias), // W^Q: the first d rows of in_proj
        crossOutW: dense(l.crossAttn.outProj.weight), crossOutB: dense(l.crossAttn.outProj.bias!),
        ff1W: dense(ff.linear1.weight), ff1B: dense(ff.linear1.bias!), ff2W: dense(ff.linear2.weight), ff2B: dense(ff.linear2.bias!),
        norm1G: dense(l.norm1.weight), norm1B: dense(l.norm1.bias), norm2G: dense(l.norm2.weight), norm2B: dense(l.norm2.bias),
        norm3G: dense(l.norm3.weight), norm3B: dense(l.norm3.bias),
      };
    });
  }

  /** Operands viewing `bound` (srcPad, then kBuf, vBuf, memory keys, memory values per layer), with this token's fields. */
  private operands(bound: Tensor[], n: number, srcLen: number, token: DecoderStepToken): DecoderStepArgs {
    const { model } = this;
    const c = model.config;
    const finalNorm = model.transformer.decoder.norm;
    return {
      ...token, positional: dense(model.positionalEncoding.table()), rows: n, dModel: c.dModel, heads: c.h, dFF: c.dFF, vocab: c.tgtVocab, srcLen, capacity: bound[1]!.shape[2]!,
      sublayers: DECODER_SUBLAYERS, normFirst: c.normFirst, activation: c.activation, eps: c.layerNormEps,
      embedding: dense(model.tgtTokEmb.embedding.weight), embedScale: Math.sqrt(c.dModel), srcPad: dense(bound[0]!),
      layers: this.layers.map((w, i) => ({
        ...w, selfK: dense(bound[1 + 4 * i]!), selfV: dense(bound[2 + 4 * i]!), crossK: dense(bound[3 + 4 * i]!), crossV: dense(bound[4 + 4 * i]!),
      })),
      finalNorm: finalNorm === null ? null : { gamma: dense(finalNorm.weight), beta: dense(finalNorm.bias) },
      generatorW: dense(model.generator.weight), generatorB: dense(model.generator.bias),
    };
  }

  /**
   * Log-probabilities [n, V] of the next token after `lastTokens` (n), given caches that hold `past` positions and
   * the memory's keys and values, and the source padding srcPad (n, S); appends this position to the caches.
   * Null, with the caches as they were, when the backend's path refuses the step (the caller steps through the modules).
   */
  step(lastTokens: Int32Array, caches: LayerCache[], srcPad: Tensor): Tensor | null {
    const path = getBackend().fused.decoderStep;
    if (path === undefined) return null;
    const c = this.model.config;
    const [n, srcLen] = srcPad.shape as [number, number];
    const past = caches[0]!.self.k?.shape[2] ?? 0;
    const maxLen = this.model.positionalEncoding.table().shape[0]!;
    if (past >= maxLen) throw new Error(`decoder step: position ${past} exceeds maxLen ${maxLen}`);
    const dK = c.dModel / c.h;
    const buffers = caches.map((cache) => reserveCache(cache.self, [n, c.h, past + 1, dK]));
    const bound = [srcPad];
    caches.forEach((cache, i) => bound.push(buffers[i]!.kBuf, buffers[i]!.vBuf, cache.cross.k!, cache.cross.v!));
    const out = Tensor.empty([n, c.tgtVocab]); // (n, V)
    const token: DecoderStepToken = { past, ids: lastTokens, out: out.dense() };
    if (path !== this.path || !sameTensors(bound, this.bound)) {
      const args = this.operands(bound, n, srcLen, token);
      this.run = path.refuses(args) === null ? path.bind(args) : null;
      [this.path, this.bound] = [path, bound];
    }
    if (this.run === null) {
      out.dispose();
      return null;
    }
    this.run(token);
    caches.forEach((cache, i) => setCacheBuffers(cache.self, buffers[i]!.kBuf, buffers[i]!.vBuf, past + 1));
    return out;
  }
}
