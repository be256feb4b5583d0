// Greedy decoding ms/sentence of the small model (d_model 256, h 4, d_ff 1024, 3+3 layers, vocabulary 8000; the
// `small` spec of bench/workers.ts) at batch 1 and 64: 32 new tokens from 32-token sources (end-of-sentence never
// stops it), through greedyDecode over the KV-cached TransformerDecoder, eval mode, on webgpu beside native.

import type { Backend } from '../../src/backend/index.js';
import { greedyDecode } from '../../src/decode/greedy.js';
import { TransformerDecoder } from '../../src/decode/transformer-decoder.js';
import { Rng } from '../../src/tensor/index.js';
import { BOS, buildModel, describe, disposeModel, PAD, randomIds, type ModelSpec } from './model.js';
import { message, round, timed, type Context, type Repeat, type Row, type Section } from './section.js';

const FULL: ModelSpec = { name: 'small', d: 256, h: 4, ff: 1024, enc: 3, dec: 3, vocab: 8000, batch: 64, src: 32, tgt: 32 };
const QUICK: ModelSpec = { name: 'quick', d: 128, h: 4, ff: 512, enc: 2, dec: 2, vocab: 1000, batch: 4, src: 8, tgt: 4 };

/** Warm-up decodes (V8 optimises the decoding loop over the first ~10 at batch 1) and the timed ones. */
const REPEAT: Repeat = { warmup: 5, minCalls: 3, minSeconds: 2, maxCalls: 50 };
/** Quick: one warm-up and one timed decode (a software adapter takes seconds a token). */
const QUICK_REPEAT: Repeat = { warmup: 1, minCalls: 1, minSeconds: 0, maxCalls: 1 };

/** ms per sentence of greedy decoding of `b` random sources of `spec` on `backend`. */
async function decodeOn(backend: Backend, spec: ModelSpec, b: number, repeat: Repeat): Promise<{ ms: number; calls: number; tokens: number }> {
  const model = buildModel(backend, spec);
  model.eval();
  const rng = new Rng(2);
  const ids = randomIds(rng, b, spec.src, spec.vocab);
  const rows = Array.from({ length: b }, (_, i) => ids.subarray(i * spec.src, (i + 1) * spec.src));
  let tokens = 0;
  try {
    const { ms, calls } = await timed(backend, repeat, async () => {
      const decoder = new TransformerDecoder(model, rows, PAD);
      const out = await greedyDecode(decoder, b, { bos: BOS, eos: -1, maxLen: spec.tgt });
      decoder.dispose();
      tokens = out[0]!.length;
    });
    return { ms: ms / calls / b, calls, tokens };
  } finally {
    disposeModel(model);
  }
}

export const decodeSection: Section = {
  title: 'greedy decoding',
  async run({ gpu, native, quick }: Context): Promise<Row[]> {
    const spec = quick ? QUICK : FULL;
    const rows: Row[] = [];
    for (const b of [1, spec.batch]) {
      const measured: Record<string, number | null> = {};
      const errors: string[] = [];
      for (const [name, backend] of [['webgpu', gpu], ['native', native]] as const) {
        if (backend === null) { measured[name] = null; continue; }
        try {
          const r = await decodeOn(backend, spec, b, quick ? QUICK_REPEAT : REPEAT);
          measured[name] = r.ms;
          if (r.tokens !== spec.tgt) errors.push(`${name} produced ${r.tokens} tokens, not ${spec.tgt}`);
        } catch (err) {
          measured[name] = null;
          errors.push(`${name}: ${message(err)}`);
        }
      }
      const [g, n] = [measured['webgpu'] ?? null, measured['native'] ?? null];
      rows.push({
        model: describe(spec), batch: b, source_tokens: spec.src, new_tokens: spec.tgt,
        webgpu_ms_per_sentence: g === null ? null : round(g), native_ms_per_sentence: n === null ? null : round(n),
        webgpu_speedup: g === null || n === null ? null : round(n / g), error: errors.length === 0 ? null : errors.join('; '),
      });
    }
    return rows;
  },
};
