// Incremental decoding with key/value caches must produce exactly what full recomputation of the prefix
// produces, for greedy decoding and for beam search (where hypotheses are reordered every step).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beamSearch, greedyDecode, type IncrementalDecoder } from '../src/decode/index.js';
import { fusedStepApplies } from '../src/decode/fused-step.js';
import { padBatch, TransformerDecoder } from '../src/decode/transformer-decoder.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { padMaskFromIds } from '../src/nn/masks.js';
import { DECODER_STEP_SUBLAYERS } from '../src/backend/backend.js';
import { DECODER_SUBLAYERS } from '../src/nn/decoder.js';
import { noGrad, tidy, logSoftmax, type Tensor } from '../src/tensor/index.js';
import { forEachBackend } from './helpers/backends.js';

const PAD = 0; const BOS = 1; const EOS = 2; const V = 17;

/** The reference: re-encodes nothing, but re-decodes each row's whole prefix at every step. */
class FullRecompute implements IncrementalDecoder {
  readonly vocabSize = V;
  private rows: number[];
  private prefixes: number[][];
  constructor(private model: Transformer, private sources: number[][]) {
    this.rows = sources.map((_, i) => i);
    this.prefixes = sources.map(() => []);
  }
  step(last: Int32Array): Tensor {
    this.prefixes.forEach((p, i) => p.push(last[i]!));
    return tidy(() => noGrad(() => {
      const src = padBatch(this.rows.map((r) => this.sources[r]!), PAD);
      const pad = padMaskFromIds(src, PAD);
      const tgt = padBatch(this.prefixes, PAD);
      const t = tgt.shape[1]!;
      const logits = this.model.decode(tgt, this.model.encode(src, pad), { srcPadMask: pad }); // (n, t, V)
      return logSoftmax(logits.slice(1, t - 1, t).reshape([this.rows.length, V]), -1);
    }));
  }
  select(indices: Int32Array): void {
    this.rows = Array.from(indices, (i) => this.rows[i]!);
    this.prefixes = Array.from(indices, (i) => [...this.prefixes[i]!]);
  }
}

const sources = [[5, 6, 7, 8, EOS], [9, 10, EOS], [11, 12, 13, 14, 15, 16, EOS]];

/** One step's log-probabilities as host values. */
function stepValues(decoder: IncrementalDecoder, last: Int32Array): Float32Array {
  const logp = decoder.step(last);
  const values = logp.toArray() as Float32Array;
  logp.dispose();
  return values;
}

test('the fused decoder steps compute the sublayers the decoder layer runs', () => {
  assert.deepEqual([...DECODER_SUBLAYERS], [...DECODER_STEP_SUBLAYERS],
    'nn/decoder.ts DECODER_SUBLAYERS changed: teach backend/ts/decoder-step.ts and native/kernels/decoder_step.cc the new sublayer, then update backend.ts DECODER_STEP_SUBLAYERS (until then the fused step refuses and decoding runs the modules)');
});

forEachBackend('decode with a Transformer', (backend) => {
  for (const normFirst of [false, true]) {
    test(`[${backend}] cached decoding equals full recomputation (normFirst ${normFirst})`, async () => {
      const model = new Transformer(makeConfig('tiny', {
        srcVocab: V, tgtVocab: V, dModel: 32, dFF: 64, h: 4, encoderLayers: 2, decoderLayers: 2, normFirst, finalNorm: true, seed: 7, maxLen: 64,
      })).eval();
      const opts = { bos: BOS, eos: EOS, maxLen: 12 };
      const cached = new TransformerDecoder(model, sources, PAD);
      const greedy = await greedyDecode(cached, sources.length, opts);
      cached.dispose();
      assert.deepEqual(greedy, await greedyDecode(new FullRecompute(model, sources), sources.length, opts));
      assert.ok(greedy.some((s) => s.length > 2), 'the untrained model should emit a few tokens before eos');
      // 40 steps fed the same tokens: the self-attention caches outgrow their first buffers (16 positions) twice,
      // and every step's log-probabilities still match full recomputation.
      const growing = new TransformerDecoder(model, sources, PAD);
      const full = new FullRecompute(model, sources);
      let last = new Int32Array(sources.length).fill(BOS);
      for (let t = 0; t < 40; t++) {
        const [a, b] = [stepValues(growing, last), stepValues(full, last)];
        const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
        assert.ok(worst < 1e-4, `step ${t}: log-probabilities differ by ${worst}`);
        last = Int32Array.from(last, (_, r) => 4 + ((t * 7 + r * 3) % (V - 4)));
      }
      growing.dispose();
      for (const beamSize of [2, 4]) {
        const beamOpts = { ...opts, beamSize, alpha: 0.6 };
        const withCache = new TransformerDecoder(model, sources, PAD);
        const got = await beamSearch(withCache, sources.length, beamOpts);
        withCache.dispose();
        assert.deepEqual(got, await beamSearch(new FullRecompute(model, sources), sources.length, beamOpts), `beam ${beamSize}`);
      }
    });
  }

  test(`[${backend}] the fused decoder step (the decoderStep fast path) equals stepping through the modules`, () => {
    for (const overrides of [
      { normFirst: false, finalNorm: true, activation: 'relu', positional: 'sinusoidal', shareEmbeddings: 'all' },
      { normFirst: true, finalNorm: false, activation: 'gelu', positional: 'learned', shareEmbeddings: 'none' },
    ] as const) {
      const model = new Transformer(makeConfig('tiny', {
        srcVocab: V, tgtVocab: V, dModel: 32, dFF: 48, h: 4, encoderLayers: 1, decoderLayers: 3, seed: 3, maxLen: 64, ...overrides,
      })).eval();
      assert.ok(fusedStepApplies(model));
      const fused = new TransformerDecoder(model, sources, PAD);
      const perStep: Float32Array[] = [];
      let last: Int32Array = new Int32Array(sources.length).fill(BOS);
      const feed = (t: number): Int32Array => Int32Array.from(last, (_, r) => 4 + ((t * 5 + r * 2) % (V - 4)));
      for (let t = 0; t < 20; t++) { perStep.push(stepValues(fused, last)); last = feed(t); }
      fused.dispose();
      model.recordAttention(true); // recording attention weights needs the modules
      assert.ok(!fusedStepApplies(model));
      const modules = new TransformerDecoder(model, sources, PAD);
      last = new Int32Array(sources.length).fill(BOS);
      for (let t = 0; t < 20; t++) {
        const expected = stepValues(modules, last);
        const worst = expected.reduce((m, v, i) => Math.max(m, Math.abs(v - perStep[t]![i]!)), 0);
        assert.ok(worst < 2e-5, `${JSON.stringify(overrides)} step ${t}: log-probabilities differ by ${worst} (a decoder layer changed in nn/decoder.ts must change in backend/ts/decoder-step.ts and native/kernels/decoder_step.cc too)`);
        last = feed(t);
      }
      modules.dispose();
      model.train();
      assert.ok(!fusedStepApplies(model), 'training mode (dropout) steps through the modules');
    }
  });
});
