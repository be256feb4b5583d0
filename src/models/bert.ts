// BERT (Devlin et al. 2019) and RoBERTa (Liu et al. 2019): the Transformer's encoder alone (post-LN, §3.1 of
// Vaswani et al., built from src/nn), with BERT's input representation (§3, Figure 2: token + position +
// segment embeddings, then LayerNorm and dropout), erf GELU in the FFN, the masked-LM head of §3.1 / Appendix A.1
// (dense + GELU + LayerNorm, then the output matrix tied to the word embeddings plus its own bias), and the
// sequence-classification head of §4.1 (the pooler, tanh(W h_[CLS] + b), then a linear classifier).
// RoBERTa (§4) drops token types (one type row) and numbers positions past the padding id, as fairseq does.

import { Dropout } from '../nn/dropout.js';
import { Embedding } from '../nn/embedding.js';
import { Encoder } from '../nn/encoder.js';
import { LayerNorm } from '../nn/layernorm.js';
import { Linear, linear } from '../nn/linear.js';
import { keyPaddingMask, padMaskFromIds } from '../nn/masks.js';
import { Module } from '../nn/module.js';
import { noGrad } from '../tensor/autograd.js';
import { zeros } from '../tensor/ops/create.js';
import { crossEntropy, embedding, linearCrossEntropy } from '../tensor/ops/nn.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { validateBertConfig, type BertConfig } from './bert-config.js';

/** Optional inputs beside the ids: token types (B, S) int32 and an attention mask (B, S), 1 = attend, 0 = padding. */
export interface BertInputs { tokenTypes?: Tensor; attentionMask?: Tensor; }

/** The label id that losses ignore (as PyTorch's and Hugging Face's -100). */
export const IGNORE_LABEL = -100;

/** The ids (B, S) as host int32 values, or an error naming the caller. */
function hostIds(ids: Tensor, what: string): Int32Array {
  if (ids.dtype !== 'int32' || ids.rank !== 2) throw new Error(`BERT: ${what} must be (B, S) int32, got ${ids.dtype} [${ids.shape.join(', ')}]`);
  const v = ids.hostIds();
  if (v === null) throw new Error(`BERT: ${what} must be readable on the host (made from host values)`);
  return v;
}

/** Position ids (B, S): 0..S-1 (BERT), or padId + 1 + the count of non-pad tokens so far, padId at pads (RoBERTa). */
export function positionIds(ids: Tensor, config: BertConfig): Tensor {
  const [b, s] = ids.shape as [number, number];
  const v = hostIds(ids, 'input ids');
  const out = new Int32Array(b * s);
  for (let i = 0; i < b; i++) {
    let seen = 0;
    for (let j = 0; j < s; j++) {
      const k = i * s + j;
      if (config.variant === 'bert') out[k] = j;
      else out[k] = v[k] === config.padId ? config.padId : config.padId + 1 + seen++;
    }
  }
  const highest = out.reduce((m, x) => Math.max(m, x), 0);
  if (highest >= config.maxPositions) {
    const room = config.variant === 'bert' ? config.maxPositions : config.maxPositions - config.padId - 1;
    throw new Error(`BERT: a sequence of ${s} tokens needs position ${highest}, past the limit of ${config.maxPositions} positions (at most ${room} tokens)`);
  }
  return Tensor.fromHost(out, [b, s]);
}

/** Token, position and token-type embeddings summed, then LayerNorm and dropout (BERT §3, Figure 2). */
export class BertEmbeddings extends Module {
  readonly wordEmbeddings: Embedding;
  readonly positionEmbeddings: Embedding;
  readonly tokenTypeEmbeddings: Embedding;
  readonly layerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(readonly config: BertConfig, rng: Rng) {
    super();
    const h = config.hiddenSize;
    this.wordEmbeddings = this.addModule('word_embeddings', new Embedding(config.vocabSize, h, rng));
    this.positionEmbeddings = this.addModule('position_embeddings', new Embedding(config.maxPositions, h, rng));
    this.tokenTypeEmbeddings = this.addModule('token_type_embeddings', new Embedding(config.typeVocabSize, h, rng));
    this.layerNorm = this.addModule('LayerNorm', new LayerNorm(h, config.layerNormEps));
    this.dropout = this.addModule('dropout', new Dropout(config.dropout, rng));
  }

  /** ids (B, S) int32, token types (B, S) int32 (default 0) -> (B, S, H). */
  forward(ids: Tensor, tokenTypes?: Tensor): Tensor {
    const types = tokenTypes ?? Tensor.fromHost(new Int32Array(ids.size), ids.shape);
    if (types.shape.join() !== ids.shape.join()) throw new Error(`BERT: token types [${types.shape.join(', ')}] must match the ids [${ids.shape.join(', ')}]`);
    const tv = hostIds(types, 'token types');
    const bad = tv.findIndex((t) => !(t >= 0 && t < this.config.typeVocabSize));
    if (bad >= 0) throw new Error(`BERT: token-type id ${tv[bad]} at position ${bad} is out of range [0, ${this.config.typeVocabSize}) (type_vocab_size ${this.config.typeVocabSize})`);
    const sum = this.wordEmbeddings.forward(ids).add(this.positionEmbeddings.forward(positionIds(ids, this.config))); // (B, S, H)
    return this.dropout.forward(this.layerNorm.forwardSum(sum, this.tokenTypeEmbeddings.forward(types)));
  }
}

/** The MLM head (Appendix A.1): dense + GELU + LayerNorm, then logits against the tied word embeddings plus `bias`. */
export class MlmHead extends Module {
  readonly dense: Linear;
  readonly layerNorm: LayerNorm;
  readonly bias: Tensor;

  constructor(readonly config: BertConfig, readonly decoderWeight: Tensor, rng: Rng) {
    super();
    this.dense = this.addModule('dense', new Linear(config.hiddenSize, config.hiddenSize, { rng }));
    this.layerNorm = this.addModule('LayerNorm', new LayerNorm(config.hiddenSize, config.layerNormEps));
    this.bias = this.addParameter('bias', zeros([config.vocabSize]));
  }

  /** (B, S, H) -> transformed states (B, S, H), before the decoder. */
  transform(x: Tensor): Tensor {
    const y = this.dense.forward(x);
    return this.layerNorm.forward(this.config.hiddenAct === 'gelu' ? y.gelu() : y.relu());
  }

  /** (B, S, H) -> logits (B, S, V). */
  forward(x: Tensor): Tensor {
    return linear(this.transform(x), this.decoderWeight, this.bias);
  }
}

/** BERT or RoBERTa with an MLM head (numLabels 0) or a pooler and a classifier (numLabels > 0). */
export class Bert extends Module {
  readonly config: BertConfig;
  readonly embeddings: BertEmbeddings;
  readonly encoder: Encoder;
  readonly mlm: MlmHead | null;
  readonly pooler: Linear | null;
  readonly classifier: Linear | null;
  readonly dropout: Dropout;
  readonly rng: Rng;

  constructor(config: BertConfig) {
    super();
    validateBertConfig(config);
    this.config = { ...config };
    const rng = (this.rng = new Rng(config.seed));
    const h = config.hiddenSize;
    this.embeddings = this.addModule('embeddings', new BertEmbeddings(config, rng));
    this.encoder = this.addModule('encoder', new Encoder(config.numLayers, {
      dModel: h, h: config.numHeads, dFF: config.intermediateSize, dropout: config.dropout, attentionDropout: config.attentionDropout,
      activationDropout: 0, activation: config.hiddenAct, attention: 'scaled-dot', normFirst: false, layerNormEps: config.layerNormEps, rng,
    }, false));
    const classify = config.numLabels > 0;
    this.mlm = classify ? null : this.addModule('mlm', new MlmHead(config, this.embeddings.wordEmbeddings.weight, rng));
    this.pooler = classify ? this.addModule('pooler', new Linear(h, h, { rng })) : null;
    this.classifier = classify ? this.addModule('classifier', new Linear(h, config.numLabels, { rng })) : null;
    this.dropout = this.addModule('dropout', new Dropout(config.dropout, rng));
    this.initWeights(rng);
  }

  /** BERT's initialisation (truncated normal of std 0.02 in the paper's code; HF: N(0, 0.02)), zero biases, a zero padding row. */
  private initWeights(rng: Rng): void {
    noGrad(() => {
      for (const [name, p] of this.namedParameters()) {
        if (/(LayerNorm|norm\d)\.(weight|bias)$/.test(name)) continue;
        const d = new Float32Array(p.size);
        if (p.rank === 2) for (let i = 0; i < d.length; i++) d[i] = 0.02 * rng.normal();
        if (name === 'embeddings.word_embeddings.weight') d.fill(0, this.config.padId * p.shape[1]!, (this.config.padId + 1) * p.shape[1]!);
        p.assign(d);
      }
    });
  }

  /** ids (B, S) int32 -> the last layer's hidden states (B, S, H). */
  forward(ids: Tensor, inputs: BertInputs = {}): Tensor {
    const mask = inputs.attentionMask;
    if (mask !== undefined && mask.shape.join() !== ids.shape.join()) throw new Error(`BERT: attention mask [${mask.shape.join(', ')}] must match the ids [${ids.shape.join(', ')}]`);
    // (B, S), 1 = padding: where the mask is 0, or (no mask) where the ids are padId
    const pad = mask === undefined ? padMaskFromIds(ids, this.config.padId) : mask.dtype === 'int32' ? padMaskFromIds(mask, 0) : mask.eq(0);
    return this.encoder.forward(this.embeddings.forward(ids, inputs.tokenTypes), keyPaddingMask(pad)); // (B, S, H)
  }

  /** The MLM head, or an error saying this is a classifier. */
  private mlmHead(): MlmHead {
    if (this.mlm === null) throw new Error('BERT: this model is a classifier (numLabels > 0) and has no MLM head');
    return this.mlm;
  }

  /** ids (B, S) -> MLM logits (B, S, V). */
  mlmLogits(ids: Tensor, inputs: BertInputs = {}): Tensor {
    return this.mlmHead().forward(this.forward(ids, inputs));
  }

  /** MLM logits (K, V) at K flat positions (b * S + s) only: the head runs on the rows that are predicted. */
  mlmLogitsAt(ids: Tensor, positions: ArrayLike<number>, inputs: BertInputs = {}): Tensor {
    return this.mlmHead().forward(this.statesAt(ids, positions, inputs));
  }

  /** The last layer's states (K, H) at K flat positions, gathered by the embedding op (its backward scatters). */
  private statesAt(ids: Tensor, positions: ArrayLike<number>, inputs: BertInputs): Tensor {
    const h = this.forward(ids, inputs); // (B, S, H)
    return embedding(h.reshape([ids.size, this.config.hiddenSize]), Tensor.fromHost(Int32Array.from(positions), [positions.length])); // (K, H)
  }

  /**
   * Mean cross entropy of the MLM predictions against labels (B, S) int32, IGNORE_LABEL (-100) ignored (as HF's
   * loss over every position); only the predicted positions go through the head.
   */
  mlmLoss(ids: Tensor, labels: Tensor, inputs: BertInputs = {}): Tensor {
    const head = this.mlmHead();
    const all = hostIds(labels, 'labels');
    const positions: number[] = [];
    all.forEach((l, k) => { if (l !== IGNORE_LABEL) positions.push(k); });
    if (positions.length === 0) throw new Error('BERT: mlmLoss needs at least one label that is not -100');
    const targets = Tensor.fromHost(Int32Array.from(positions, (k) => all[k]!), [positions.length]);
    return linearCrossEntropy(head.transform(this.statesAt(ids, positions, inputs)), head.decoderWeight, head.bias, targets);
  }

  /** ids (B, S) -> class logits (B, numLabels): the pooler's tanh(W h_[CLS] + b), dropout, then the classifier. */
  classify(ids: Tensor, inputs: BertInputs = {}): Tensor {
    if (this.pooler === null || this.classifier === null) throw new Error('BERT: this model is a masked LM (numLabels 0) and has no classifier');
    const h = this.forward(ids, inputs); // (B, S, H)
    const first = h.slice(1, 0, 1).reshape([h.shape[0]!, h.shape[2]!]); // (B, H): the [CLS] / <s> state
    return this.classifier.forward(this.dropout.forward(this.pooler.forward(first).tanh())); // (B, numLabels)
  }

  /** Mean cross entropy of the class logits against labels (B) int32. */
  classificationLoss(ids: Tensor, labels: Tensor, inputs: BertInputs = {}): Tensor {
    return crossEntropy(this.classify(ids, inputs), labels);
  }
}
