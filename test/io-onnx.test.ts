// ONNX export (src/io/onnx): the graphs pass onnx.checker's full check (Debian's python3-onnx), the tied embedding
// is stored once, and onnxruntime-node running them (bench/ort-greedy.ts) gives aiayn's log-probabilities within
// 1e-4 at every greedy step and the same translations, for a briefly trained model and for untrained variants
// (pre-LN, GELU, learned positions, untied or target-output embeddings); multi-token prefixes through both decoder
// graphs equal aiayn's forward logits. Bad input gets clear errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { compareGreedy } from '../bench/ort-compare.js';
import { readMulti30k } from '../src/data/corpora.js';
import { exportOnnx, ONNX_FILES } from '../src/io/onnx/export.js';
import { loadModelDir, saveModelDir } from '../src/io/model-dir.js';
import { makeConfig, type TransformerConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { noGrad } from '../src/tensor/autograd.js';
import { tensor } from '../src/tensor/ops/create.js';
import { trainPreset } from '../src/train/presets.js';
import { trainTranslation } from '../src/train/translation.js';
import { checkOnnxFiles } from './helpers/onnx-checker.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
const dir = tempDir('aiayn-onnx-');
const trained = join(dir, 'model');
const exported = join(dir, 'onnx');
let sources: number[][] = [];

before(async () => {
  const train = (await readMulti30k('train', 'de', 'en')).slice(0, 1500);
  await trainTranslation({
    ...trainPreset('demo'), model: { dModel: 32, dFF: 64, h: 2, encoderLayers: 2, decoderLayers: 2, finalNorm: true, maxLen: 128 },
    vocabSize: 600, batchTokens: 1024, maxSteps: 60, maxMinutes: 0, evalEvery: 1000, bleuSentences: 0, checkpointEvery: 1000,
    keepCheckpoints: 1, train, val: train.slice(0, 20), out: trained, progress: false, log: () => {},
  });
  await exportOnnx(trained, exported);
  const { tokenizer } = await loadModelDir(trained);
  sources = (await readMulti30k('test_2016_flickr', 'de', 'en')).slice(0, 24).map((p) => [...tokenizer.encode(p.src), 2]);
});

/** Decodes `srcs` greedily with aiayn and with onnxruntime; asserts equal tokens and log-probabilities within 1e-4. */
async function assertSameGreedy(modelDir: string, onnxDir: string, srcs: number[][], maxLen: number, eos = 2): Promise<number> {
  const { model } = await loadModelDir(modelDir);
  const r = await compareGreedy(model, onnxDir, srcs, { maxLen: () => maxLen, eos });
  assert.ok(r.worst < 1e-4, `largest log-probability difference ${r.worst}`);
  assert.equal(r.unmatched, 0, 'onnxruntime made the same row-steps as aiayn');
  assert.deepEqual(r.ort, r.ours);
  return r.compared;
}

test('the three graphs pass onnx.checker.check_model(full_check=True) (Debian python3-onnx)', (t) => {
  checkOnnxFiles(t, Object.values(ONNX_FILES).map((f) => join(exported, f)));
});

test('the tied embedding is one initializer read by Gather and Gemm; batch and sequence axes are dynamic', () => {
  const m = onnxProto.onnx.ModelProto.decode(readFileSync(join(exported, ONNX_FILES.decoder)));
  assert.equal(Number(m.opsetImport[0]!.version), 17);
  const graph = m.graph as onnxProto.onnx.GraphProto;
  const name = 'src_tok_emb.embedding.weight';
  assert.equal(graph.initializer.filter((i) => i.name === name).length, 1);
  assert.deepEqual(graph.node.filter((n) => (n.input ?? []).includes(name)).map((n) => n.opType).sort(), ['Gather', 'Gemm']);
  const ids = graph.input.find((i) => i.name === 'input_ids')!;
  assert.deepEqual(ids.type!.tensorType!.shape!.dim!.map((d) => d.dimParam), ['batch', 'tgt_len']);
  const config = JSON.parse(readFileSync(join(exported, 'config.json'), 'utf8'));
  assert.equal(config.graphs.decoderWithPast.inputs.filter((i: { name: string }) => i.name.startsWith('past_key_values.')).length, 2 * 2 * 2);
  assert.deepEqual(config.graphs.decoderWithPast.outputs.map((o: { name: string }) => o.name).sort(),
    ['logits', 'present.0.decoder.key', 'present.0.decoder.value', 'present.1.decoder.key', 'present.1.decoder.value']);
});

test('onnxruntime matches aiayn at every greedy step of a trained model (log-probabilities within 1e-4, same tokens)', async () => {
  const rowSteps = await assertSameGreedy(trained, exported, sources, 30);
  assert.ok(rowSteps >= sources.length, `${rowSteps} row-steps compared`);
});

test('prefixes of several tokens: decoder_model on 4 positions, then decoder_with_past on 2 more, equal aiayn forward logits', async () => {
  const { model } = await loadModelDir(trained);
  const srcs = sources.slice(0, 3);
  const S = Math.max(...srcs.map((s) => s.length));
  const tgt = [[1, 5, 9, 14, 20, 33], [1, 7, 8, 9, 10, 11], [1, 40, 41, 2, 0, 0]]; // (3, 6); a padded row ends the batch
  const padded = srcs.map((s) => [...s, ...Array(S - s.length).fill(0)]);
  const ours = noGrad(() => model.forward(tensor(Int32Array.from(padded.flat()), [3, S], 'int32'), tensor(Int32Array.from(tgt.flat()), [3, 6], 'int32'), 0)).toArray() as Float32Array; // (3, 6, V)
  const V = model.config.tgtVocab;
  const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);
  const open = (f: string) => ort.InferenceSession.create(join(exported, f), { intraOpNumThreads: 1 });
  const [enc, dec, decPast] = await Promise.all([open(ONNX_FILES.encoder), open(ONNX_FILES.decoder), open(ONNX_FILES.decoderWithPast)]);
  const mask = i64(padded.map((r, i) => r.map((_, j) => (j < srcs[i]!.length ? 1 : 0))));
  const { last_hidden_state: memory } = await enc.run({ input_ids: i64(padded), attention_mask: mask });
  const first = await dec.run({ input_ids: i64(tgt.map((r) => r.slice(0, 4))), encoder_attention_mask: mask, encoder_hidden_states: memory! });
  const past = Object.fromEntries(Object.entries(first).filter(([n]) => n.startsWith('present.')).map(([n, t]) => [n.replace('present.', 'past_key_values.'), t]));
  const next = await decPast.run({ input_ids: i64(tgt.map((r) => r.slice(4))), encoder_attention_mask: mask, ...past });
  let worst = 0;
  for (const [logits, from, len] of [[first['logits']!.data, 0, 4], [next['logits']!.data, 4, 2]] as Array<[Float32Array, number, number]>) {
    for (let b = 0; b < 3; b++) for (let t = 0; t < len; t++) for (let j = 0; j < V; j++) {
      if (tgt[b]![from + t] === 0) continue; // a padded position: aiayn masks it as a key, onnxruntime's step has no target padding
      worst = Math.max(worst, Math.abs(logits[(b * len + t) * V + j]! - ours[(b * 6 + from + t) * V + j]!));
    }
  }
  await Promise.all([enc.release(), dec.release(), decPast.release()]);
  assert.ok(worst < 1e-4, `largest logit difference ${worst}`);
});

test('untrained variants match too: pre-LN, GELU, learned positions, untied and target-output embeddings, no final norm', async () => {
  const { tokenizer } = await loadModelDir(trained);
  const V = tokenizer.vocabSize;
  const variants: Array<Partial<TransformerConfig>> = [
    { normFirst: true, activation: 'gelu', positional: 'learned', shareEmbeddings: 'none', finalNorm: true },
    { normFirst: false, finalNorm: false, shareEmbeddings: 'target-output', decoderLayers: 1 },
  ];
  for (const [i, overrides] of variants.entries()) {
    const config = makeConfig('tiny', { srcVocab: V, tgtVocab: V, dModel: 32, dFF: 48, h: 4, encoderLayers: 2, decoderLayers: 2, maxLen: 128, seed: 3 + i, ...overrides });
    const modelDir = join(dir, `variant-${i}`);
    mkdirSync(modelDir);
    await saveModelDir(modelDir, new Transformer(config), tokenizer);
    await exportOnnx(modelDir, join(modelDir, 'onnx'));
    await assertSameGreedy(modelDir, join(modelDir, 'onnx'), sources.slice(0, 6), 12, -1); // eos -1: all 12 steps of every row
  }
});

test('additive attention is refused by name; a non-empty output directory needs --force', async () => {
  const { tokenizer, config } = await loadModelDir(trained);
  const additive = join(dir, 'additive');
  mkdirSync(additive);
  await saveModelDir(additive, new Transformer({ ...config.model, attention: 'additive' }), tokenizer);
  await assert.rejects(exportOnnx(additive, join(dir, 'additive-onnx')), /attention 'additive' cannot be exported to ONNX/);
  const out = join(dir, 'busy');
  await exportOnnx(trained, out);
  writeFileSync(join(out, 'note.txt'), 'keep');
  const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT, 'export', 'onnx', '--model', trained, '-o', out, ...args], { cwd: ROOT, encoding: 'utf8' });
  let r = cli([]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /output directory .*busy exists and is not empty \(give --force to write into it\)/);
  r = cli(['--force']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /exported .* to ONNX \(opset 17\)/);
});
