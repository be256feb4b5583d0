// A greedy loop around onnxruntime-node for a GPT export (aiayn export onnx): decoder_model.onnx runs the prompt,
// then decoder_with_past_model.onnx one token at a time with the present.* outputs passed back as
// past_key_values.*; and aiayn's logits for the same steps through its KV cache, to compare them.

import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GPT_ONNX_FILES } from '../src/io/onnx/gpt-export.js';
import type { Gpt } from '../src/models/gpt.js';
import { noGrad } from '../src/tensor/autograd.js';
import { tensor } from '../src/tensor/ops/create.js';

/** An int64 tensor of equal-length rows. */
export const i64 = (rows: readonly (readonly number[])[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);

/** Both graphs of a GPT export as onnxruntime sessions (one intra-op thread). */
export async function gptSessions(onnxDir: string): Promise<{ first: ort.InferenceSession; next: ort.InferenceSession }> {
  const open = (f: string): Promise<ort.InferenceSession> => ort.InferenceSession.create(join(onnxDir, f), { intraOpNumThreads: 1 });
  return { first: await open(GPT_ONNX_FILES.decoder), next: await open(GPT_ONNX_FILES.decoderWithPast) };
}

/** A run's present.N.key/value, renamed to the past_key_values.N.key/value of the next step. */
export const pastOf = (out: ort.InferenceSession.OnnxValueMapType): Record<string, ort.Tensor> =>
  Object.fromEntries(Object.entries(out).filter(([n]) => n.startsWith('present.')).map(([n, t]) => [n.replace('present.', 'past_key_values.'), t as ort.Tensor]));

/** The index of the largest value of the last row (V values) of logits, the first on ties. */
function argmaxLast(logits: Float32Array, V: number): number {
  const row = logits.subarray(logits.length - V);
  let best = 0;
  for (let j = 1; j < V; j++) if (row[j]! > row[best]!) best = j;
  return best;
}

/** Greedy decoding of `steps` tokens after `prompt` by onnxruntime; returns them and each run's logits (the prompt's: all positions). */
export async function ortGreedyGpt(onnxDir: string, V: number, prompt: readonly number[], steps: number): Promise<{ tokens: number[]; logits: Float32Array[] }> {
  const { first, next } = await gptSessions(onnxDir);
  let out = await first.run({ input_ids: i64([prompt]), attention_mask: i64([prompt.map(() => 1)]) });
  const logits = [out['logits']!.data as Float32Array];
  const tokens = [argmaxLast(logits[0]!, V)];
  while (tokens.length < steps) {
    out = await next.run({ input_ids: i64([[tokens.at(-1)!]]), attention_mask: i64([Array(prompt.length + tokens.length).fill(1)]), ...pastOf(out) });
    logits.push(out['logits']!.data as Float32Array);
    tokens.push(argmaxLast(logits.at(-1)!, V));
  }
  await Promise.all([first.release(), next.release()]);
  return { tokens, logits };
}

/** aiayn's logits for the same runs: the prompt, then each of `tokens` but the last, through the KV cache. */
export function aiaynStepLogits(model: Gpt, prompt: readonly number[], tokens: readonly number[]): Float32Array[] {
  const caches = model.emptyCache();
  const step = (ids: readonly number[]): Float32Array => noGrad(() => model.forward(tensor(Int32Array.from(ids), [1, ids.length], 'int32'), caches)).toArray() as Float32Array;
  return [step(prompt), ...tokens.slice(0, -1).map((id) => step([id]))];
}
