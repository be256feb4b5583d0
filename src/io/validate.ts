// Checks on files read from others, before they reach the model: weights must be finite (a NaN weight makes
// every translation an empty line, silently), and a config must not declare a model larger than its weights
// file can hold (a hostile config.json would otherwise allocate gigabytes before the weights are read).

import type { TransformerConfig } from '../models/config.js';

/** How a loader treats weights that are NaN or infinite. */
export interface NonfiniteOptions {
  /** Load them anyway (the CLI's --allow-nonfinite); default false: refuse, naming the tensor. */
  allowNonfinite?: boolean;
  /** Receives one warning line when non-finite weights are loaded anyway. */
  warn?: (message: string) => void;
}

/** Where the first non-finite value of one tensor is. */
export interface NonfiniteTensor { name: string; count: number; index: number; value: number; }

/** The tensors holding NaN or ±Infinity, in iteration order, with their count and first offending index. */
export function findNonfinite(tensors: Iterable<[string, { data: ArrayLike<number> }]>): NonfiniteTensor[] {
  const found: NonfiniteTensor[] = [];
  for (const [name, { data }] of tensors) {
    let count = 0;
    let index = -1;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v - v !== 0) { // NaN or ±Infinity, without a function call per element
        if (count++ === 0) index = i;
      }
    }
    if (count > 0) found.push({ name, count, index, value: data[index]! });
  }
  return found;
}

/** Refuses (or, when allowed, warns about) non-finite weights read from `source`, naming the first tensor. */
export function checkFiniteWeights(tensors: Iterable<[string, { data: ArrayLike<number> }]>, source: string, options: NonfiniteOptions = {}): void {
  const found = findNonfinite(tensors);
  if (found.length === 0) return;
  const first = found[0]!;
  const what = `tensor '${first.name}' holds ${first.count} non-finite value${first.count === 1 ? '' : 's'} (${first.value} at index ${first.index})` +
    (found.length > 1 ? `, and ${found.length - 1} more tensor${found.length === 2 ? '' : 's'} too` : '');
  if (!options.allowNonfinite) throw new Error(`${source}: ${what}; such weights translate to empty lines (pass --allow-nonfinite to load them anyway)`);
  options.warn?.(`warning: ${source}: ${what}; loaded anyway (--allow-nonfinite), translations may be empty or garbage`);
}

/** The largest positional table (maxLen x dModel values) a config may declare. */
export const MAX_POSITION_VALUES = 2 ** 26;

/** A lower bound on the parameter count of a Transformer with this config (attention and FFN weights, embeddings). */
export function minParameterCount(c: TransformerConfig): number {
  const d = c.dModel;
  const ffn = 2 * d * c.dFF;
  const embeddings = c.shareEmbeddings === 'all' ? Math.max(c.srcVocab, c.tgtVocab) * d : (c.srcVocab + c.tgtVocab) * d;
  return embeddings + c.encoderLayers * (4 * d * d + ffn) + c.decoderLayers * (8 * d * d + ffn);
}

/**
 * Refuses, before anything is allocated, a config whose model cannot fit in a weights file of `weightsBytes`
 * bytes (at 2 bytes a parameter, the smallest dtype read) or whose positional table is absurdly large.
 */
export function checkModelFitsWeights(c: TransformerConfig, weightsBytes: number, configPath: string, weightsPath: string): void {
  const params = minParameterCount(c);
  if (params * 2 > weightsBytes) {
    throw new Error(`${configPath}: declares a model of at least ${params} parameters, more than ${weightsPath} (${weightsBytes} bytes) can hold`);
  }
  if (c.maxLen * c.dModel > MAX_POSITION_VALUES) {
    throw new Error(`${configPath}: maxLen ${c.maxLen} x dModel ${c.dModel} positions exceed the limit of ${MAX_POSITION_VALUES} values`);
  }
}
