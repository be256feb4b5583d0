// Greedy decoding of an `aiayn export onnx` directory with onnxruntime-node: a small loop around three sessions.
// The encoder runs once; the first decoder step (decoder_model.onnx) returns every layer's self- and
// cross-attention keys and values; each later step (decoder_with_past_model.onnx) takes them back and returns the
// self-attention ones grown by one position. Rows whose sentence ended are dropped as src/decode/greedy.ts does.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { OnnxExportConfig } from '../src/io/onnx/export.js';

/** One step's log-probabilities (rows, V), row r belonging to sentence `sentences[r]`. */
export type StepHook = (step: number, logp: Float64Array, sentences: readonly number[]) => void;

/** Keeps rows `rows` (batch is the outer axis) of a float32 or int64 tensor. */
function keepRows(t: ort.Tensor, rows: readonly number[]): ort.Tensor {
  const size = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const src = t.data as Float32Array | BigInt64Array;
  const out = new (src.constructor as Float32ArrayConstructor | BigInt64ArrayConstructor)(rows.length * size) as Float32Array | BigInt64Array;
  rows.forEach((r, i) => out.set(src.subarray(r * size, (r + 1) * size) as never, i * size));
  return new ort.Tensor(t.type as 'float32', out as Float32Array, [rows.length, ...t.dims.slice(1)]);
}

/** Row r of logits (n, V) as float64 log-probabilities. */
function logSoftmaxRow(logits: Float32Array, r: number, V: number): Float64Array {
  const row = logits.subarray(r * V, (r + 1) * V);
  let max = -Infinity;
  for (const x of row) if (x > max) max = x;
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (x) => x - lse);
}

/** The index of the largest value of row r of logits (n, V), the first on ties. */
function argmaxRow(logits: Float32Array, r: number, V: number): number {
  let best = 0;
  for (let j = 1; j < V; j++) if (logits[r * V + j]! > logits[r * V + best]!) best = j;
  return best;
}

/** An exported model in three onnxruntime sessions. */
export class OrtSeq2Seq {
  private constructor(readonly config: OnnxExportConfig, private readonly encoder: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession, private readonly decoderWithPast: ort.InferenceSession, private readonly profiling: boolean) {}

  /** Opens the export in `dir` with `threads` intra-op threads (sequential execution, all graph optimisations; `extra` added). */
  static async load(dir: string, threads: number, extra: ort.InferenceSession.SessionOptions = {}): Promise<OrtSeq2Seq> {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as OnnxExportConfig;
    const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', ...extra };
    const open = (file: string): Promise<ort.InferenceSession> => ort.InferenceSession.create(join(dir, file), options);
    const g = config.graphs;
    return new OrtSeq2Seq(config, await open(g.encoder.file), await open(g.decoder.file), await open(g.decoderWithPast.file), options.enableProfiling === true);
  }

  /**
   * Greedy decoding of `sources` (token ids, eos appended) for at most maxLen tokens each (eos included); returns
   * each sentence's tokens without bos/eos. `hook` sees every step's log-probabilities.
   */
  async greedy(sources: readonly ArrayLike<number>[], maxLen: number, opts: { eos?: number; hook?: StepHook } = {}): Promise<number[][]> {
    const { bos, pad } = this.config.specialTokens;
    const eos = opts.eos ?? this.config.specialTokens.eos;
    const V = this.config.model.tgtVocab;
    const n = sources.length;
    const S = Math.max(1, ...sources.map((s) => s.length));
    const ids = new BigInt64Array(n * S).fill(BigInt(pad));
    const mask = new BigInt64Array(n * S);
    sources.forEach((s, i) => Array.from(s).forEach((t, j) => { ids[i * S + j] = BigInt(t); mask[i * S + j] = 1n; }));
    let srcMask: ort.Tensor = new ort.Tensor('int64', mask, [n, S]);
    const { last_hidden_state: memory } = await this.encoder.run({ input_ids: new ort.Tensor('int64', ids, [n, S]), attention_mask: srcMask });
    const out: number[][] = Array.from({ length: n }, () => []);
    let live = Array.from({ length: n }, (_, i) => i);
    let last: number[] = live.map(() => bos);
    let past: Record<string, ort.Tensor> = {};
    for (let step = 0; step < maxLen && live.length > 0; step++) {
      const inputIds = new ort.Tensor('int64', BigInt64Array.from(last, BigInt), [live.length, 1]);
      const result = step === 0
        ? await this.decoder.run({ input_ids: inputIds, encoder_attention_mask: srcMask, encoder_hidden_states: memory! })
        : await this.decoderWithPast.run({ input_ids: inputIds, encoder_attention_mask: srcMask, ...past });
      const logits = result['logits']!.data as Float32Array; // (rows, 1, V)
      if (opts.hook) {
        const logp = new Float64Array(live.length * V);
        for (let r = 0; r < live.length; r++) logp.set(logSoftmaxRow(logits, r, V), r * V);
        opts.hook(step, logp, live);
      }
      const keep: number[] = [];
      const next: number[] = [];
      live.forEach((s, r) => {
        const token = argmaxRow(logits, r, V);
        if (token === eos) return;
        out[s]!.push(token);
        if (out[s]!.length < maxLen) { keep.push(r); next.push(token); }
      });
      // present.i.decoder.* replace the self-attention past; the first step's present.i.encoder.* serve every later step.
      for (const [name, t] of Object.entries(result)) if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = t;
      if (keep.length !== live.length) {
        past = Object.fromEntries(Object.entries(past).map(([name, t]) => [name, keepRows(t, keep)]));
        srcMask = keepRows(srcMask, keep);
        live = keep.map((r) => live[r]!);
      }
      last = next;
    }
    return out;
  }

  /** Closes the sessions (ending their profiles, when profiling). */
  async release(): Promise<void> {
    for (const s of [this.encoder, this.decoder, this.decoderWithPast]) {
      if (this.profiling) s.endProfiling();
      await s.release();
    }
  }
}
