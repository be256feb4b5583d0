// GPT export to ONNX (src/io/onnx/gpt-*.ts): decoder_model and decoder_with_past_model run by onnxruntime-node give
// PyTorch's logits for the GPT-2 and GPT-1 fixtures (scripts/make-gpt2-fixtures.py), a prefix split between the two
// graphs included; the greedy loop of bench/ort-gpt-greedy.ts (present.* passed back as past_key_values.*) gives
// aiayn's logits within 1e-4 at the prompt and every step and the tokens of aiayn's generate; left-padded rows equal
// unpadded ones; the files pass onnx.checker; bad input is refused by name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { aiaynStepLogits, gptSessions, i64, ortGreedyGpt, pastOf } from '../bench/ort-gpt-greedy.js';
import { Gpt2Tokenizer } from '../src/data/gpt2.js';
import { generate } from '../src/decode/generate.js';
import { saveGptDir } from '../src/io/gpt-dir.js';
import { HfTensors } from '../src/io/hf.js';
import { loadGpt2Weights, loadHfGpt2 } from '../src/io/hf-gpt2.js';
import { exportOnnx } from '../src/io/onnx/export.js';
import { exportGptModelOnnx, GPT_ONNX_FILES, type OnnxGptExportConfig } from '../src/io/onnx/gpt-export.js';
import { loadSafetensors, type SafetensorsTensor } from '../src/io/safetensors.js';
import { Gpt } from '../src/models/gpt.js';
import { makeGptConfig } from '../src/models/gpt-config.js';
import { noGrad } from '../src/tensor/autograd.js';
import { tensor } from '../src/tensor/ops/create.js';
import { checkOnnxFiles } from './helpers/onnx-checker.js';
import { relError } from './helpers/rel-error.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures');
const SCRIPT = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
const CHARS = 'abcdefghijklmnopqrstuvwxyz .,!?';
const dir = mkdtempSync(join(tmpdir(), 'aiayn-onnx-gpt-'));
/** An export: the model, its ONNX directory and (for the fixtures) PyTorch's reference tensors. */
interface Exported { model: Gpt; onnx: string; ref?: Map<string, SafetensorsTensor>; }
let runs: Record<'gpt2Hf' | 'gpt1' | 'random', Exported>;

before(async () => {
  const gpt2Hf = { model: loadHfGpt2(join(FIXTURES, 'gpt2-tiny')), onnx: join(dir, 'gpt2-hf'), ref: loadSafetensors(join(FIXTURES, 'gpt2-tiny/reference.safetensors')).tensors };
  await exportOnnx(join(FIXTURES, 'gpt2-tiny'), gpt2Hf.onnx); // GPT-2: pre-LN, tanh GELU, final LN, tied head
  const gpt1Ref = loadSafetensors(join(FIXTURES, 'gpt1-tiny.safetensors')).tensors;
  const gpt1 = new Gpt(makeGptConfig('gpt1', { vocabSize: 264, maxLen: 16, layers: 2, h: 2, dModel: 16, dFF: 64 })).eval(); // post-LN, no final LN
  const weights = new Map([...gpt1Ref].filter(([n]) => !/^(input|expected|grad)\./.test(n)).map(([n, v]) => [n.replace(/^transformer\./, ''), v]));
  loadGpt2Weights(gpt1, new HfTensors(weights, 'gpt1-tiny.safetensors'));
  await exportGptModelOnnx(gpt1, join(dir, 'gpt1'));
  // An aiayn train-lm directory: exact GELU, untied head, 4 heads of 8, a character tokenizer.
  const random = new Gpt(makeGptConfig('shakespeare-char', { vocabSize: CHARS.length, maxLen: 32, layers: 2, dModel: 32, h: 4, dFF: 64, activation: 'gelu', tiedHead: false, seed: 5 })).eval();
  const modelDir = join(dir, 'random');
  mkdirSync(modelDir);
  await saveGptDir(modelDir, random, { type: 'char', chars: CHARS });
  await exportOnnx(modelDir, join(dir, 'random-onnx'));
  runs = { gpt2Hf, gpt1: { model: gpt1, onnx: join(dir, 'gpt1'), ref: gpt1Ref }, random: { model: random, onnx: join(dir, 'random-onnx') } };
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('logits equal PyTorch for the GPT-2 and GPT-1 fixtures, whole and as a prefix of 4 then 5 tokens through the past graph', async () => {
  for (const { onnx, ref } of [runs.gpt2Hf, runs.gpt1]) {
    const [B, T] = ref!.get('input.ids')!.shape as [number, number];
    const ids = Array.from({ length: B }, (_, b) => Array.from(ref!.get('input.ids')!.data.subarray(b * T, (b + 1) * T)));
    const expected = ref!.get('expected.logits')!.data; // (B, T, V)
    const ones = (n: number): number[][] => ids.map(() => Array(n).fill(1));
    const { first, next } = await gptSessions(onnx);
    const whole = await first.run({ input_ids: i64(ids), attention_mask: i64(ones(T)) });
    assert.ok(relError(whole['logits']!.data as Float32Array, expected) < 1e-4, `${onnx}: whole sequence`);
    const head = await first.run({ input_ids: i64(ids.map((r) => r.slice(0, 4))), attention_mask: i64(ones(4)) });
    const tail = await next.run({ input_ids: i64(ids.map((r) => r.slice(4))), attention_mask: i64(ones(T)), ...pastOf(head) });
    const V = expected.length / (B * T);
    const joined = new Float32Array(expected.length);
    for (let b = 0; b < B; b++) {
      joined.set((head['logits']!.data as Float32Array).subarray(b * 4 * V, (b + 1) * 4 * V), b * T * V);
      joined.set((tail['logits']!.data as Float32Array).subarray(b * (T - 4) * V, (b + 1) * (T - 4) * V), (b * T + 4) * V);
    }
    assert.ok(relError(joined, expected) < 1e-4, `${onnx}: 4 + 5 tokens`);
    assert.deepEqual(tail['present.1.value']!.dims, [B, 2, T, 8]);
  }
});

test('a greedy loop over the KV cache: logits within 1e-4 of aiayn at the prompt and every step, tokens equal to generate', async () => {
  for (const [name, prompt, steps] of [['gpt2Hf', [5, 77, 200, 3], 12], ['gpt1', [9, 8, 7], 12], ['random', [1, 2, 3, 4, 5], 20]] as const) {
    const { model, onnx } = runs[name];
    const V = model.config.vocabSize;
    const { tokens, logits: theirs } = await ortGreedyGpt(onnx, V, prompt, steps);
    const ours = aiaynStepLogits(model, prompt, tokens);
    let worst = 0;
    ours.forEach((o, s) => o.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - theirs[s]![j]!)); }));
    assert.ok(worst < 1e-4, `${name}: largest logit difference ${worst}`);
    const generated: number[] = [];
    for await (const id of generate(model, prompt, { maxNewTokens: steps, temperature: 0 })) generated.push(id);
    assert.deepEqual(tokens, generated, name);
  }
});

test('left padding: position ids follow the attention mask, so padded rows equal unpadded prompts, then one step with past', async () => {
  const { model, onnx } = runs.random;
  const V = model.config.vocabSize;
  const prompts = [[3, 1, 4, 1, 5, 9], [2, 6, 5]];
  const { first, next } = await gptSessions(onnx);
  const mask = prompts.map((p) => [...Array(6 - p.length).fill(0), ...p.map(() => 1)]);
  const out = await first.run({ input_ids: i64(prompts.map((p) => [...Array(6 - p.length).fill(0), ...p])), attention_mask: i64(mask) });
  const step = await next.run({ input_ids: i64([[7], [8]]), attention_mask: i64(mask.map((m) => [...m, 1])), ...pastOf(out) });
  const logits = out['logits']!.data as Float32Array; // (2, 6, V)
  for (const [b, p] of prompts.entries()) {
    const seq = [...p, b === 0 ? 7 : 8];
    const ours = noGrad(() => model.forward(tensor(Int32Array.from(seq), [1, seq.length], 'int32'))).toArray() as Float32Array; // (1, L + 1, V)
    const padded = logits.subarray((b * 6 + 6 - p.length) * V, (b + 1) * 6 * V);
    assert.ok(relError(padded, ours.subarray(0, p.length * V)) < 1e-4, `row ${b}: prompt`);
    assert.ok(relError((step['logits']!.data as Float32Array).subarray(b * V, (b + 1) * V), ours.subarray(p.length * V)) < 1e-4, `row ${b}: step`);
  }
});

test('layout: a tied embedding is one initializer read by Gather and Gemm; dynamic axes; config.json; tokenizer files', () => {
  const m = onnxProto.onnx.ModelProto.decode(readFileSync(join(runs.gpt2Hf.onnx, GPT_ONNX_FILES.decoderWithPast)));
  assert.equal(Number(m.opsetImport[0]!.version), 17);
  const graph = m.graph as onnxProto.onnx.GraphProto;
  assert.equal(graph.initializer.filter((i) => i.name === 'wte.weight').length, 1);
  assert.deepEqual(graph.node.filter((n) => (n.input ?? []).includes('wte.weight')).map((n) => n.opType).sort(), ['Gather', 'Gemm']);
  const dims = (name: string): unknown[] => graph.input.find((i) => i.name === name)!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
  assert.deepEqual(dims('attention_mask'), ['batch', 'past_len + seq_len']);
  assert.deepEqual(dims('past_key_values.0.key'), ['batch', 2, 'past_len', 8]);
  const hf = JSON.parse(readFileSync(join(runs.gpt2Hf.onnx, 'config.json'), 'utf8')) as OnnxGptExportConfig;
  assert.deepEqual(hf.graphs.decoder.inputs.map((i) => i.name), ['input_ids', 'attention_mask']);
  assert.deepEqual(hf.graphs.decoderWithPast.outputs.map((o) => o.name).sort(), ['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
  assert.deepEqual(hf.tokenizerFiles, ['vocab.json', 'merges.txt']);
  for (const f of hf.tokenizerFiles) assert.deepEqual(readFileSync(join(runs.gpt2Hf.onnx, f)), readFileSync(join(FIXTURES, 'gpt2-tiny', f)));
  const own = JSON.parse(readFileSync(join(runs.random.onnx, 'config.json'), 'utf8')) as OnnxGptExportConfig;
  assert.deepEqual([own.tokenizer, own.tokenizerFiles], [{ type: 'char', chars: CHARS }, []]);
  const untied = onnxProto.onnx.ModelProto.decode(readFileSync(join(runs.random.onnx, GPT_ONNX_FILES.decoder))).graph as onnxProto.onnx.GraphProto;
  assert.ok(untied.initializer.some((i) => i.name === 'lm_head.weight'));
});

test("an aiayn directory on GPT-2's BPE gets vocab.json, merges.txt and tokenizer.json that load as the same tokenizer", async () => {
  const modelDir = join(dir, 'bpe');
  mkdirSync(modelDir);
  await saveGptDir(modelDir, new Gpt(makeGptConfig('shakespeare-bpe', { layers: 1, dModel: 16, h: 2, dFF: 32 })), { type: 'gpt2' });
  const written = await exportOnnx(modelDir, join(dir, 'bpe-onnx')) as OnnxGptExportConfig;
  assert.deepEqual(written.tokenizerFiles, ['vocab.json', 'merges.txt', 'tokenizer.json']);
  const text = 'ROMEO: But soft, what light through yonder window breaks?<|endoftext|>';
  const expected = (await Gpt2Tokenizer.bundled()).encode(text);
  assert.deepEqual((await Gpt2Tokenizer.loadVocabMerges(join(dir, 'bpe-onnx/vocab.json'), join(dir, 'bpe-onnx/merges.txt'))).encode(text), expected);
  assert.deepEqual((await Gpt2Tokenizer.loadTokenizerJson(join(dir, 'bpe-onnx/tokenizer.json'))).encode(text), expected);
});

test('every graph passes onnx.checker.check_model(full_check=True) (Debian python3-onnx)', (t) => {
  checkOnnxFiles(t, Object.values(runs).flatMap(({ onnx }) => Object.values(GPT_ONNX_FILES).map((f) => join(onnx, f))));
});

test('the CLI exports a GPT directory; a BERT directory and an attention switch our GPT lacks are refused by name', async () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT, 'export', 'onnx', '--model', join(FIXTURES, 'gpt2-tiny'), '-o', join(dir, 'cli')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /decoder_with_past_model\.onnx: 6 inputs \(input_ids, attention_mask, past_key_values\.0\.key, \.\.\.\), 5 outputs/);
  await assert.rejects(exportOnnx(join(FIXTURES, 'bert-tiny'), join(dir, 'bert')), /model_type "bert" cannot be exported to ONNX/);
  const scaled = join(dir, 'scaled');
  mkdirSync(scaled);
  const config = JSON.parse(readFileSync(join(FIXTURES, 'gpt2-tiny/config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(scaled, 'config.json'), JSON.stringify({ ...config, scale_attn_by_inverse_layer_idx: true }));
  writeFileSync(join(scaled, 'model.safetensors'), readFileSync(join(FIXTURES, 'gpt2-tiny/model.safetensors')));
  await assert.rejects(exportOnnx(scaled, join(dir, 'scaled-onnx')), /'scale_attn_by_inverse_layer_idx': true is not supported/);
});
