// Token embeddings (§3.4): a learned [vocab, d_model] table looked up by int32 ids.

import { embedding } from '../tensor/ops/nn.js';
import { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { normalInit } from './init.js';
import { Module } from './module.js';

/** A lookup table [numEmbeddings, dim], N(0, 1) at start like torch.nn.Embedding. */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly dim: number, rng: Rng = new Rng(0)) {
    super();
    this.weight = this.addParameter('weight', normalInit([numEmbeddings, dim], rng));
  }

  /** ids (...) int32 -> (..., dim). */
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}
