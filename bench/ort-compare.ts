// aiayn's greedy decoding (src/decode/greedy.ts with the KV-cached TransformerDecoder) beside onnxruntime's
// (bench/ort-greedy.ts) on an export of the same model: the tokens of both, and the largest difference of the
// next-token log-probabilities over every step of every sentence both sides decoded.

import { greedyDecode } from '../src/decode/greedy.js';
import { TransformerDecoder } from '../src/decode/transformer-decoder.js';
import type { IncrementalDecoder } from '../src/decode/types.js';
import type { Transformer } from '../src/models/transformer.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { OrtSeq2Seq } from './ort-greedy.js';

/** An IncrementalDecoder that records each step's log-probabilities by `step:sentence`. */
class Recording implements IncrementalDecoder {
  readonly steps = new Map<string, Float32Array>();
  private live: number[];
  private count = 0;

  constructor(private readonly inner: TransformerDecoder, batch: number) {
    this.live = Array.from({ length: batch }, (_, i) => i);
  }

  /** The wrapped decoder's vocabulary size. */
  get vocabSize(): number { return this.inner.vocabSize; }

  /** The wrapped step, its rows recorded. */
  step(lastTokens: Int32Array): Tensor {
    const logp = this.inner.step(lastTokens);
    const all = logp.toArray() as Float32Array;
    const V = this.vocabSize;
    this.live.forEach((s, r) => this.steps.set(`${this.count}:${s}`, all.slice(r * V, (r + 1) * V)));
    this.count++;
    return logp;
  }

  /** The wrapped select, following which sentence each row is. */
  select(indices: Int32Array): void {
    this.live = Array.from(indices, (r) => this.live[r]!);
    this.inner.select(indices);
  }
}

/** What compareGreedy found. */
export interface GreedyComparison {
  ours: number[][];
  ort: number[][];
  /** Largest |log p_aiayn - log p_ort| over the row-steps both made. */
  worst: number;
  /** Row-steps (sentence, step) compared, and those only one side made. */
  compared: number;
  unmatched: number;
}

/** Decodes `sources` (ids with eos) greedily with `model` and with the export in `onnxDir`, batch by batch. */
export async function compareGreedy(model: Transformer, onnxDir: string, sources: readonly number[][], opts: { maxLen: (src: number[]) => number; eos?: number; batch?: number; threads?: number }): Promise<GreedyComparison> {
  const eos = opts.eos ?? 2;
  const V = model.config.tgtVocab;
  const ort = await OrtSeq2Seq.load(onnxDir, opts.threads ?? 1);
  const result: GreedyComparison = { ours: [], ort: [], worst: 0, compared: 0, unmatched: 0 };
  const size = opts.batch ?? sources.length;
  try {
    for (let at = 0; at < sources.length; at += size) {
      const srcs = sources.slice(at, at + size);
      const maxLen = Math.max(...srcs.map(opts.maxLen));
      const decoder = new Recording(new TransformerDecoder(model, srcs, 0), srcs.length);
      result.ours.push(...await greedyDecode(decoder, srcs.length, { bos: 1, eos, maxLen }));
      let seen = 0;
      result.ort.push(...await ort.greedy(srcs, maxLen, {
        eos,
        hook: (step, logp, sentences) => sentences.forEach((s, r) => {
          const mine = decoder.steps.get(`${step}:${s}`);
          if (mine === undefined) { result.unmatched++; return; }
          seen++;
          for (let j = 0; j < V; j++) result.worst = Math.max(result.worst, Math.abs(mine[j]! - logp[r * V + j]!));
        }),
      }));
      result.compared += seen;
      result.unmatched += decoder.steps.size - seen;
    }
  } finally {
    await ort.release();
  }
  return result;
}
