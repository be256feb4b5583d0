// attentionMaps on a tiny random Transformer: shapes and token labels, rows that sum to 1, the causal zeros of
// decoder self-attention, weights equal to a float64 softmax(Q K^T / sqrt(d_k)) recomputed from each layer's
// input and projection weights, the greedy target, truncation, restored model state, no leaked tensors; and
// the HTML page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bpe, BOS_ID, EOS_ID, PAD_ID } from '../src/data/bpe.js';
import { readMulti30k } from '../src/data/corpora.js';
import { translate } from '../src/decode/translate.js';
import { attentionMaps, type AttentionMaps } from '../src/inspect/attention.js';
import { renderHtml, tokenLabel } from '../src/inspect/heatmap.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import type { MultiHeadAttention } from '../src/nn/attention.js';
import { causalMask } from '../src/nn/masks.js';
import { noGrad, tensor, tidy, type Tensor } from '../src/tensor/index.js';
import { Storage } from '../src/tensor/storage.js';

const pairs = (await readMulti30k('train', 'de', 'en')).slice(0, 40);
const bpe = Bpe.learn(pairs.flatMap((p) => [p.src, p.tgt]), { merges: 150 });
const MAX_LEN = 24;
const model = new Transformer(makeConfig('tiny', {
  srcVocab: bpe.vocabSize, tgtVocab: bpe.vocabSize, dModel: 32, dFF: 64, h: 4, encoderLayers: 2, decoderLayers: 2, maxLen: MAX_LEN, seed: 7,
}));
const SRC = 'Ein Mann läuft mit einem Hund.';
const TGT = 'A man runs with a dog.';

/** softmax over j of scores[i][j] (-Infinity where masked), in float64. */
function softmaxRows(scores: number[][]): number[][] {
  return scores.map((row) => {
    const top = Math.max(...row);
    const e = row.map((s) => Math.exp(s - top));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  });
}

/** Float64 reference: per head, softmax((x W_q^T + b_q)(m W_k^T + b_k)^T / sqrt(d_k)), x (1, T, d), m (1, S, d). */
function referenceWeights(attn: MultiHeadAttention, x: Float32Array, m: Float32Array, causal: boolean): number[][][] {
  const { dModel: d, dK, h } = attn;
  const w = attn.inProjWeight.toArray();
  const b = attn.inProjBias.toArray();
  const project = (input: Float32Array, offset: number) => Array.from({ length: input.length / d }, (_, r) =>
    Array.from({ length: d }, (_, c) => {
      let acc = b[offset + c]!;
      for (let k = 0; k < d; k++) acc += input[r * d + k]! * w[(offset + c) * d + k]!;
      return acc;
    }));
  const q = project(x, 0);
  const k = project(m, d);
  return Array.from({ length: h }, (_, head) => softmaxRows(q.map((qi, i) => k.map((kj, j) => {
    if (causal && j > i) return -Infinity;
    let dot = 0;
    for (let c = head * dK; c < (head + 1) * dK; c++) dot += qi[c]! * kj[c]!;
    return dot / Math.sqrt(dK);
  }))));
}

/** Asserts two [head][i][j] arrays agree to tol. */
function assertMapsClose(actual: number[][][], expected: number[][][], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: heads`);
  expected.forEach((rows, h) => rows.forEach((row, i) => row.forEach((e, j) => {
    const a = actual[h]![i]![j]!;
    assert.ok(Math.abs(a - e) <= tol, `${what}: head ${h} [${i}][${j}] is ${a}, expected ${e}`);
  })));
}

/** Asserts [layer][head][rows][cols] sizes and that every row is a distribution. */
function assertDistributions(maps: number[][][][], layers: number, heads: number, rows: number, cols: number, what: string): void {
  assert.equal(maps.length, layers, `${what}: layers`);
  for (const layer of maps) {
    assert.equal(layer.length, heads, `${what}: heads`);
    for (const head of layer) {
      assert.equal(head.length, rows, `${what}: rows`);
      for (const row of head) {
        assert.equal(row.length, cols, `${what}: columns`);
        assert.ok(row.every((w) => w >= 0), `${what}: negative weight`);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5, `${what}: a row sums to ${row.reduce((a, b) => a + b, 0)}`);
      }
    }
  }
}

test('maps have the token labels, one distribution per row, S key columns in cross attention, causal zeros', async () => {
  const maps = await attentionMaps(model, bpe, SRC, TGT);
  const srcWords = bpe.encode(SRC).map((id) => bpe.tokenText(id));
  const tgtWords = bpe.encode(TGT).map((id) => bpe.tokenText(id));
  assert.deepEqual(maps.srcTokens, [...srcWords, '<eos>']);
  assert.deepEqual(maps.tgtTokens, ['<bos>', ...tgtWords]);
  assert.deepEqual(maps.tgtOutTokens, [...tgtWords, '<eos>']);
  assert.equal(maps.translation, TGT);
  assert.equal(maps.heads, 4);
  assert.deepEqual(maps.layers, { encoder: 2, decoder: 2 });
  const [S, T] = [maps.srcTokens.length, maps.tgtTokens.length];
  assertDistributions(maps.encoderSelf, 2, 4, S, S, 'encoder self');
  assertDistributions(maps.decoderSelf, 2, 4, T, T, 'decoder self');
  assertDistributions(maps.cross, 2, 4, T, S, 'cross');
  for (const layer of maps.decoderSelf) for (const head of layer) head.forEach((row, i) => row.forEach((w, j) => {
    if (j > i) assert.equal(w, 0, `decoder self-attention [${i}][${j}] above the diagonal is ${w}`);
  }));
  assert.deepEqual(maps.decoderSelf[0]![0]![0], [1, ...Array(T - 1).fill(0)], 'the first decoder position sees only itself');
});

test('weights equal softmax(Q K^T / sqrt(d_k)) recomputed from the layer inputs and projections', async () => {
  const maps = await attentionMaps(model, bpe, SRC, TGT);
  model.eval();
  const srcIds = [...bpe.encode(SRC), EOS_ID];
  const tgtIn = [BOS_ID, ...bpe.encode(TGT)];
  const [encoder, decoder] = [model.transformer.encoder.layers.items, model.transformer.decoder.layers.items];
  const inputs = noGrad(() => tidy(() => {
    const src = tensor(srcIds, [1, srcIds.length], 'int32');
    const x0 = model.positionalEncoding.forward(model.srcTokEmb.forward(src)); // (1, S, d), input of encoder layer 0
    const x1 = encoder[0]!.forward(x0); // input of encoder layer 1
    const memory = model.encode(src);
    const y0 = model.positionalEncoding.forward(model.tgtTokEmb.forward(tensor(tgtIn, [1, tgtIn.length], 'int32'))); // input of decoder layer 0
    const selfOut = decoder[0]!.selfAttn.forward(y0, y0, y0, causalMask(tgtIn.length));
    const crossQuery: Tensor = decoder[0]!.norm1.forward(y0.add(selfOut)); // post-LN residual (§3.1)
    return { x1: x1.toArray() as Float32Array, memory: memory.toArray() as Float32Array, y0: y0.toArray() as Float32Array, crossQuery: crossQuery.toArray() as Float32Array };
  }));
  assertMapsClose(maps.encoderSelf[1]!, referenceWeights(encoder[1]!.selfAttn, inputs.x1, inputs.x1, false), 1e-5, 'encoder layer 2 self');
  assertMapsClose(maps.decoderSelf[0]!, referenceWeights(decoder[0]!.selfAttn, inputs.y0, inputs.y0, true), 1e-5, 'decoder layer 1 self');
  assertMapsClose(maps.cross[0]!, referenceWeights(decoder[0]!.crossAttn, inputs.crossQuery, inputs.memory, false), 1e-5, 'decoder layer 1 cross');
});

test('without a target the maps use the greedy translation that translate() gives', async () => {
  const maps = await attentionMaps(model, bpe, SRC);
  const [expected] = await translate(model, bpe, [SRC], { special: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID } });
  assert.equal(maps.translation, expected);
  const words = bpe.encode(expected!).slice(0, MAX_LEN - 1).map((id) => bpe.tokenText(id));
  assert.deepEqual(maps.tgtTokens, ['<bos>', ...words]);
  assert.equal(maps.cross[1]![0]!.length, words.length + 1, 'cross attention has one row per decoder position');
});

test('a source or target longer than maxLen is truncated to maxLen tokens and reported', async () => {
  const long = Array.from({ length: 40 }, (_, i) => `Hund${i}`).join(' ');
  const reports: string[] = [];
  const maps = await attentionMaps(model, bpe, long, long, { onTruncate: (side, length, max) => reports.push(`${side} ${length} ${max}`) });
  const n = bpe.encode(long).length + 1;
  assert.deepEqual(reports, [`source ${n} ${MAX_LEN}`, `target ${n} ${MAX_LEN}`]);
  assert.equal(maps.srcTokens.length, MAX_LEN);
  assert.equal(maps.srcTokens.at(-1), '<eos>');
  assert.equal(maps.tgtTokens.length, MAX_LEN);
  assert.equal(maps.encoderSelf[0]![0]!.length, MAX_LEN);
});

test('the model keeps its training mode and recording flags', async () => {
  model.train();
  const [watched] = model.attentionLayers();
  watched!.attention.recordWeights = true; // one layer records on its own; it must stay so
  await attentionMaps(model, bpe, SRC, TGT);
  assert.equal(model.training, true);
  for (const { attention } of model.attentionLayers()) {
    assert.equal(attention.recordWeights, attention === watched!.attention);
    assert.equal(attention.lastWeights === null, attention !== watched!.attention, 'weights kept only where recording was on');
  }
  watched!.attention.recordWeights = false;
  watched!.attention.lastWeights!.dispose();
  watched!.attention.lastWeights = null;
});

test('no tensor outlives a call (live tensor handles counted through Storage retain/release)', async () => {
  let live = 0;
  const { retain, release } = Storage.prototype;
  Storage.prototype.retain = function (this: Storage) { live++; retain.call(this); };
  Storage.prototype.release = function (this: Storage) { live--; release.call(this); };
  try {
    await attentionMaps(model, bpe, SRC, TGT); // warm-up: anything built once and cached
    const before = live;
    await attentionMaps(model, bpe, SRC, TGT);
    await attentionMaps(model, bpe, SRC);
    assert.equal(live - before, 0, `${live - before} tensors were left undisposed`);
    assert.ok(live >= 0);
  } finally {
    Object.assign(Storage.prototype, { retain, release });
  }
});

test('the HTML page is self-contained, titled with the sentence, and has every label and layers x heads panels per kind', async () => {
  const source = 'Ein <Mann> & "Hund".';
  const maps: AttentionMaps = await attentionMaps(model, bpe, source, TGT);
  const html = renderHtml(maps, source);
  assert.match(html, /^<!DOCTYPE html>/);
  assert.ok(html.includes('<title>Attention: Ein &lt;Mann&gt; &amp; &quot;Hund&quot;.</title>'), 'title with the escaped sentence');
  assert.ok(!/<(link|img)\b|\bsrc=|href="(?!data:|#)/.test(html), 'no external assets');
  for (const kind of ['encoderSelf', 'decoderSelf', 'cross'] as const) {
    const panels = html.split(`data-kind="${kind}"`).length - 1;
    assert.equal(panels, maps[kind].length * maps.heads, `${kind} panels`);
  }
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  for (const token of [...maps.srcTokens, ...maps.tgtTokens]) {
    assert.ok(html.includes(`>${escape(tokenLabel(token))}</text>`), `label ${JSON.stringify(token)}`);
  }
  assert.ok(html.includes('\u2581'), 'spaces are shown as U+2581');
});
