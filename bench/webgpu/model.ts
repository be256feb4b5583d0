// The models and synthetic batches of the training and decoding sections: the paper's base architecture
// (post-LN, shared embeddings, §3.4) with the dimensions of a bench spec, and random word ids of real shape.

import type { Backend } from '../../src/backend/index.js';
import { setBackend } from '../../src/backend/index.js';
import { makeConfig } from '../../src/models/config.js';
import { Transformer } from '../../src/models/transformer.js';
import { Rng, tensor, type Tensor } from '../../src/tensor/index.js';

/** Model dimensions and batch shape: B sequences of `src` source and `tgt` target tokens. */
export interface ModelSpec {
  name: string; d: number; h: number; ff: number; enc: number; dec: number; vocab: number;
  batch: number; src: number; tgt: number;
}

export const PAD = 1;
export const BOS = 2;
const FIRST_WORD = 4;

/** One training batch, kept: src (B, S), tgtIn = BOS + tgt[:-1] (B, T), tgtOut (B, T), int32, no padding. */
export interface Batch { src: Tensor; tgtIn: Tensor; tgtOut: Tensor }

/** A Transformer of `spec` built on `backend` (which becomes the current backend). */
export function buildModel(backend: Backend, spec: ModelSpec): Transformer {
  setBackend(backend);
  return new Transformer(makeConfig('base', {
    srcVocab: spec.vocab, tgtVocab: spec.vocab, dModel: spec.d, h: spec.h, dFF: spec.ff, encoderLayers: spec.enc,
    decoderLayers: spec.dec, maxLen: 512,
  }));
}

/** Random word ids (B, L). */
export function randomIds(rng: Rng, b: number, len: number, vocab: number): Int32Array {
  return Int32Array.from({ length: b * len }, () => FIRST_WORD + rng.int(vocab - FIRST_WORD));
}

/** A random batch of `b` sequences of `spec`'s lengths on the current backend. */
export function randomBatch(spec: ModelSpec, b: number, rng: Rng): Batch {
  const { src: s, tgt: t, vocab } = spec;
  const tgt = randomIds(rng, b, t, vocab);
  const tgtIn = new Int32Array(b * t);
  for (let i = 0; i < b; i++) {
    tgtIn[i * t] = BOS;
    tgtIn.set(tgt.subarray(i * t, i * t + t - 1), i * t + 1);
  }
  return {
    src: tensor(randomIds(rng, b, s, vocab), [b, s], 'int32').keep(),
    tgtIn: tensor(tgtIn, [b, t], 'int32').keep(),
    tgtOut: tensor(tgt, [b, t], 'int32').keep(),
  };
}

/** Frees the model's parameters and their gradients (optimizer moments stay until the process ends). */
export function disposeModel(model: Transformer): void {
  for (const p of model.parameters()) { p.grad?.dispose(); p.dispose(); }
}

/** "d512 h8 ff2048 6+6 V32000". */
export function describe(s: ModelSpec): string {
  return `d${s.d} h${s.h} ff${s.ff} ${s.enc}+${s.dec} V${s.vocab}`;
}
