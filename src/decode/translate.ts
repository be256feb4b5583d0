// Translating sentences with a trained model: tokenize, encode once per chunk, search (greedy, beam with
// length penalty, or sampling) with the key/value-cached decoder, detokenize.

import type { Transformer } from '../models/transformer.js';
import type { Rng } from '../tensor/random.js';
import { beamSearch } from './beam.js';
import { greedyDecode } from './greedy.js';
import { sampleDecode } from './sampling.js';
import { TransformerDecoder } from './transformer-decoder.js';

/** A tokenizer as translation needs it. */
export interface TextCodec { encode(text: string): number[]; decode(ids: ArrayLike<number>): string; }

/** How to search and how long outputs may be: max length = a * |source| + b tokens (capped by the model). */
export interface TranslateOptions {
  /** 1 = greedy (default); > 1 = beam search. */
  beam?: number;
  /** Length-penalty exponent of beam search (default 0.6, §6.1). */
  alpha?: number;
  maxLenA?: number;
  maxLenB?: number;
  /** Sample instead of searching (temperature/topK/topP as in SamplingOptions). */
  sample?: { temperature?: number; topK?: number; topP?: number; rng?: Rng };
  /** Sentences decoded together. */
  batch?: number;
  special: { pad: number; bos: number; eos: number };
  /** Called with the number of sentences done so far. */
  onProgress?: (done: number) => void;
  /** Called for a source longer than the model's maximum length (it is truncated). */
  onTruncate?: (index: number, length: number, max: number) => void;
}

/** Translates sentences; returns one output per input, in order. */
export async function translate(model: Transformer, codec: TextCodec, sources: readonly string[], opts: TranslateOptions): Promise<string[]> {
  const beam = opts.beam ?? 1;
  const batch = opts.batch ?? (beam > 1 ? 16 : 64);
  const wasTraining = model.training;
  model.eval();
  try {
    return await translateBatches(model, codec, sources, opts, beam, batch);
  } finally {
    model.train(wasTraining);
  }
}

/** translate()'s loop over batches of `batch` sentences, the model in eval mode. */
async function translateBatches(model: Transformer, codec: TextCodec, sources: readonly string[], opts: TranslateOptions,
  beam: number, batch: number): Promise<string[]> {
  const { pad, bos, eos } = opts.special;
  const maxModel = model.config.maxLen;
  const out: string[] = [];
  for (let i = 0; i < sources.length; i += batch) {
    const ids = sources.slice(i, i + batch).map((s, k) => {
      const tokens = codec.encode(s);
      if (tokens.length + 1 > maxModel) {
        opts.onTruncate?.(i + k, tokens.length + 1, maxModel);
        return [...tokens.slice(0, maxModel - 1), eos];
      }
      return [...tokens, eos];
    });
    const maxLen = ids.map((s) => Math.max(1, Math.min(Math.round((opts.maxLenA ?? 1) * s.length + (opts.maxLenB ?? 50)), maxModel)));
    const decoder = new TransformerDecoder(model, ids, pad);
    const search = { bos, eos, maxLen };
    try {
      const results = await (opts.sample !== undefined ? sampleDecode(decoder, ids.length, { ...search, ...opts.sample })
        : beam > 1 ? beamSearch(decoder, ids.length, { ...search, beamSize: beam, alpha: opts.alpha ?? 0.6 })
          : greedyDecode(decoder, ids.length, search));
      for (const tokens of results) out.push(codec.decode(tokens));
    } finally {
      decoder.dispose();
    }
    opts.onProgress?.(out.length);
  }
  return out;
}
