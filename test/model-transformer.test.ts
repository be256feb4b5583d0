import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTorchStateDict, toTorchStateDict } from '../src/io/torch-names.js';
import { makeConfig, PRESETS, validateConfig, type TransformerConfig } from '../src/models/config.js';
import { lossAndGrads } from '../src/train/loss.js';
import { Transformer } from '../src/models/transformer.js';
import { padMaskFromIds } from '../src/nn/masks.js';
import { reorderCaches } from '../src/nn/decoder.js';
import { crossEntropy, noGrad, tensor } from '../src/tensor/index.js';

const PAD = 0;
const small = (overrides: Partial<TransformerConfig> = {}): TransformerConfig => makeConfig('tiny', {
  srcVocab: 13, tgtVocab: 11, dModel: 16, dFF: 32, h: 2, encoderLayers: 2, decoderLayers: 2, maxLen: 16, shareEmbeddings: 'none', ...overrides,
});
const ids = (rows: number[][]) => tensor(rows, undefined, 'int32');
const src = ids([[4, 5, 6, 7, 2], [8, 9, 2, PAD, PAD]]);
const tgtIn = ids([[1, 3, 4, 5], [1, 6, 7, PAD]]);
const tgtOut = ids([[3, 4, 5, 2], [6, 7, 2, PAD]]);

test('presets follow Table 3 and configs are validated and JSON-serialisable', () => {
  assert.deepEqual([PRESETS.base.encoderLayers, PRESETS.base.dModel, PRESETS.base.dFF, PRESETS.base.h, PRESETS.base.dropout, PRESETS.base.labelSmoothing], [6, 512, 2048, 8, 0.1, 0.1]);
  assert.deepEqual([PRESETS.big.dModel, PRESETS.big.dFF, PRESETS.big.h, PRESETS.big.dropout], [1024, 4096, 16, 0.3]);
  assert.deepEqual([PRESETS.tiny.dModel, PRESETS.tiny.h, PRESETS.tiny.dFF, PRESETS.tiny.encoderLayers], [128, 4, 512, 2]);
  assert.deepEqual([PRESETS.small.dModel, PRESETS.small.h, PRESETS.small.dFF, PRESETS.small.decoderLayers], [256, 4, 1024, 3]);
  const c = small();
  assert.deepEqual(JSON.parse(JSON.stringify(c)), c);
  assert.throws(() => validateConfig({ ...c, h: 3 }), /divisible/);
  assert.throws(() => makeConfig('tiny', { shareEmbeddings: 'all', srcVocab: 5, tgtVocab: 6 }), /srcVocab == tgtVocab/);
});

test('base model has the expected parameter count (shared embeddings, 37000 vocab)', () => {
  const c = PRESETS.base;
  const d = c.dModel, f = c.dFF;
  const attn = 4 * d * d + 4 * d;
  const ffn = 2 * d * f + f + d;
  const expected = c.srcVocab * d + c.tgtVocab /* generator bias */ + 6 * (attn + ffn + 4 * d) + 6 * (2 * attn + ffn + 6 * d);
  const count = (cfg: TransformerConfig) => {
    // Count from the module tree of a shrunk-vocab model plus the embedding term, to stay fast.
    const m = new Transformer({ ...cfg, srcVocab: 2, tgtVocab: 2, maxLen: 2 });
    return m.parameters().reduce((n, p) => n + p.size, 0) - 2 * d - 2 + cfg.srcVocab * d + cfg.tgtVocab;
  };
  assert.equal(count(c), expected);
  assert.ok(Math.abs(expected - 65e6) / 65e6 < 0.05, `${expected} is within 5% of the 65M of Table 3`);
});

test('forward gives (B, T, V) logits; decoding is causal and source padding is ignored', () => {
  for (const normFirst of [false, true]) {
    const model = new Transformer(small({ normFirst, finalNorm: normFirst })).eval();
    const logits = noGrad(() => model.forward(src, tgtIn, PAD));
    assert.deepEqual(logits.shape, [2, 4, 11]);
    // Changing a later target token leaves earlier positions unchanged.
    const changed = noGrad(() => model.forward(src, ids([[1, 3, 9, 9], [1, 6, 7, PAD]]), PAD)).toArray();
    const base = logits.toArray();
    for (let i = 0; i < 2 * 11; i++) assert.ok(Math.abs(changed[i]! - base[i]!) < 1e-6);
    assert.ok(Math.abs(changed[2 * 11]! - base[2 * 11]!) > 1e-6, 'position 2 does see its own input');
    // Extra source padding changes nothing for the second sentence.
    const longer = noGrad(() => model.forward(ids([[4, 5, 6, 7, 2, PAD], [8, 9, 2, PAD, PAD, PAD]]), tgtIn, PAD)).toArray();
    for (let i = 0; i < base.length; i++) assert.ok(Math.abs(longer[i]! - base[i]!) < 1e-5);
    // Explicit masks give the same result as the pad id.
    const explicit = noGrad(() => model.forward(src, tgtIn, { srcPadMask: padMaskFromIds(src, PAD), tgtPadMask: padMaskFromIds(tgtIn, PAD) })).toArray();
    assert.deepEqual(explicit, base);
    // encode + decode is forward.
    const viaParts = noGrad(() => model.decode(tgtIn, model.encode(src, padMaskFromIds(src, PAD)), { srcPadMask: padMaskFromIds(src, PAD), tgtPadMask: padMaskFromIds(tgtIn, PAD) })).toArray();
    assert.deepEqual(viaParts, base);
  }
  const model = new Transformer(small()).eval();
  model.recordAttention(true);
  noGrad(() => model.forward(src, tgtIn, PAD));
  const layers = model.attentionLayers();
  assert.equal(layers.length, 2 + 2 * 2);
  const cross = layers.find((l) => l.name === 'decoder.1.cross')!.attention.lastWeights!;
  assert.deepEqual(cross.shape, [2, 2, 4, 5]);
  assert.equal(cross.toArray()[(1 * 2 * 4) * 5 + 3], 0, 'sentence 2 does not attend to source padding');
});

test('lossAndGrads: label-smoothed loss and a gradient for every parameter, every variant', async () => {
  const variants: Array<Partial<TransformerConfig>> = [
    {}, { normFirst: true, finalNorm: true, activation: 'gelu' }, { positional: 'learned' },
    { attention: 'additive' }, { attention: 'general' }, { shareEmbeddings: 'target-output' },
    { shareEmbeddings: 'all', tgtVocab: 13 },
  ];
  for (const v of variants) {
    const model = new Transformer(small(v));
    const { loss, grads } = await lossAndGrads(model, src, tgtIn, tgtOut, { labelSmoothing: 0.1, padId: PAD });
    assert.ok(Number.isFinite(loss) && loss > 0, JSON.stringify(v));
    assert.equal(grads.size, model.parameters().length, JSON.stringify(v));
  }
  const shared = new Transformer(small({ shareEmbeddings: 'all', tgtVocab: 13 }));
  const names = shared.namedParameters().map(([n]) => n);
  assert.ok(names.includes('src_tok_emb.embedding.weight') && !names.includes('tgt_tok_emb.embedding.weight') && !names.includes('generator.weight'));
  assert.equal(shared.generator.weight, shared.srcTokEmb.embedding.weight);
});

test('Transformer.loss (generator fused into the loss) equals the loss of forward() and gives the same gradients', () => {
  for (const v of [{}, { shareEmbeddings: 'all', tgtVocab: 13 }] as Array<Partial<TransformerConfig>>) {
    const model = new Transformer(small(v)).eval(); // no dropout: both passes see the same network
    const viaLogits = crossEntropy(model.forward(src, tgtIn, PAD), tgtOut, { ignoreIndex: PAD, labelSmoothing: 0.1 });
    viaLogits.backward();
    const expected = new Map(model.namedParameters().map(([n, p]) => [n, p.grad!.toArray()]));
    model.zeroGrad();
    const fused = model.loss(src, tgtIn, tgtOut, { padId: PAD, labelSmoothing: 0.1 });
    assert.ok(Math.abs(fused.item() - viaLogits.item()) < 1e-6, `${JSON.stringify(v)}: loss ${fused.item()} vs ${viaLogits.item()}`);
    fused.backward();
    for (const [name, p] of model.namedParameters()) {
      const want = expected.get(name)!;
      const got = Array.from(p.grad!.toArray());
      const scale = Math.max(1e-6, ...Array.from(want, Math.abs));
      const worst = got.reduce((m, g, i) => Math.max(m, Math.abs(g - want[i]!)), 0);
      assert.ok(worst <= 1e-5 * scale, `${JSON.stringify(v)} ${name}: gradient differs by ${worst} (scale ${scale})`);
    }
  }
});

test('dropout in training mode is reproducible from the config seed', () => {
  const run = () => new Transformer(small({ seed: 3 })).train().forward(src, tgtIn, PAD).toArray();
  assert.deepEqual(run(), run());
  const model = new Transformer(small({ seed: 3 }));
  assert.notDeepEqual(model.train().forward(src, tgtIn, PAD).toArray(), model.eval().forward(src, tgtIn, PAD).toArray());
});

test('PyTorch state dicts: a model moves both ways; tied weights are repeated and checked', async () => {
  const a = new Transformer(small({ finalNorm: true, shareEmbeddings: 'all', tgtVocab: 13 })).eval();
  const dict = await toTorchStateDict(a);
  assert.ok(dict.has('transformer.encoder.layers.1.linear2.bias') && dict.has('transformer.decoder.norm.weight'));
  assert.ok(dict.has('tgt_tok_emb.embedding.weight') && dict.has('generator.weight'));
  assert.deepEqual(dict.get('positional_encoding.pos_embedding')!.shape, [16, 1, 16]);
  const b = new Transformer(small({ finalNorm: true, shareEmbeddings: 'all', tgtVocab: 13, seed: 9 })).eval();
  loadTorchStateDict(b, dict);
  assert.deepEqual(noGrad(() => b.forward(src, tgtIn, PAD)).toArray(), noGrad(() => a.forward(src, tgtIn, PAD)).toArray());
  dict.get('generator.weight')!.data[0]! += 1;
  assert.throws(() => loadTorchStateDict(b, dict), /generator\.weight differs/);
  await assert.rejects(toTorchStateDict(new Transformer(small())), /finalNorm must be true/);
});

test('incremental decoding with key/value caches gives the logits of full decoding; caches follow reordering', () => {
  for (const normFirst of [false, true]) {
    const model = new Transformer(small({ normFirst, finalNorm: true })).eval();
    const tgt = ids([[1, 3, 4, 5], [1, 6, 7, 8]]);
    const srcPad = padMaskFromIds(src, PAD);
    noGrad(() => {
      const memory = model.encode(src, srcPad);
      const full = model.decode(tgt, memory, { srcPadMask: srcPad }).toArray(); // (2, 4, V)
      const caches = model.decoderCache();
      for (let step = 0; step < 4; step++) {
        const logits = model.decode(tgt.slice(1, step, step + 1), memory, { srcPadMask: srcPad }, caches).toArray(); // (2, 1, V)
        for (let b = 0; b < 2; b++) for (let v = 0; v < 11; v++) {
          const expected = full[(b * 4 + step) * 11 + v]!;
          assert.ok(Math.abs(logits[b * 11 + v]! - expected) < 1e-5, `step ${step} b ${b} v ${v}`);
        }
      }
      // Swap the two hypotheses: the caches follow; the caller reorders the source padding mask.
      reorderCaches(caches, [1, 0]);
      const srcSwapped = ids([[8, 9, 2, PAD, PAD], [4, 5, 6, 7, 2]]);
      const padSwapped = padMaskFromIds(srcSwapped, PAD);
      const next = model.decode(ids([[9], [9]]), memory, { srcPadMask: padSwapped }, caches).toArray(); // (2, 1, V)
      const fresh = model.decode(ids([[1, 6, 7, 8, 9], [1, 3, 4, 5, 9]]), model.encode(srcSwapped, padSwapped), { srcPadMask: padSwapped }).toArray();
      for (let b = 0; b < 2; b++) for (let v = 0; v < 11; v++) {
        assert.ok(Math.abs(next[b * 11 + v]! - fresh[(b * 5 + 4) * 11 + v]!) < 1e-5, `after reorder: b ${b} v ${v}`);
      }
    });
  }
});
