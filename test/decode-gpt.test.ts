// GPT generation with the key/value cache: token-by-token cached steps reproduce PyTorch's full-sequence logits
// (scripts/make-gpt2-fixtures.py), the fused decoder step gives the cached modules' log-probabilities, greedy
// generation equals recomputing the whole prefix, and bad prompts, tokenizers and directories get errors that
// name the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gpt2Tokenizer } from '../src/data/gpt2.js';
import { DECODER_ONLY_STEP_SUBLAYERS } from '../src/backend/backend.js';
import { coreOnly, getBackend, type DecoderStepArgs, type Dense } from '../src/backend/index.js';
import { FusedDecoderStep, gptStepApplies } from '../src/decode/fused-step.js';
import { generate } from '../src/decode/generate.js';
import { loadGptDir } from '../src/io/gpt-dir.js';
import { loadHfGpt2 } from '../src/io/hf-gpt2.js';
import { loadSafetensors, saveSafetensors } from '../src/io/safetensors.js';
import { Gpt } from '../src/models/gpt.js';
import { makeGptConfig } from '../src/models/gpt-config.js';
import { ENCODER_SUBLAYERS } from '../src/nn/encoder.js';
import { logSoftmax, noGrad, tensor } from '../src/tensor/index.js';
import { forEachBackend, onBackend } from './helpers/backends.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TINY = join(ROOT, 'test/fixtures/gpt2-tiny');
const SCRIPT = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8' });
}

async function collect(it: AsyncGenerator<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const id of it) out.push(id);
  return out;
}

forEachBackend('GPT generation', () => {
  test('cached steps, one token at a time, reproduce the PyTorch logits of the whole sequence', async () => {
    const model = loadHfGpt2(TINY);
    const ref = loadSafetensors(join(TINY, 'reference.safetensors')).tensors;
    const [, T, V] = ref.get('expected.logits')!.shape as [number, number, number];
    const ids = ref.get('input.ids')!.data;
    const expected = ref.get('expected.logits')!.data;
    const caches = model.emptyCache();
    let scale = 0;
    for (let i = 0; i < T * V; i++) scale = Math.max(scale, Math.abs(expected[i]!));
    for (let t = 0; t < T; t++) {
      const logits = noGrad(() => model.forward(tensor([ids[t]!], [1, 1], 'int32'), caches));
      const got = await logits.data();
      for (let v = 0; v < V; v++) assert.ok(Math.abs(got[v]! - expected[t * V + v]!) < 1e-4 * scale, `position ${t}, token ${v}`);
    }
  });

  test('the fused decoder step gives the cached modules\' log-probabilities: GPT-2 (pre-LN, tanh GELU, tied head) and GPT-1 (post-LN, untied)', async () => {
    const gpt1 = new Gpt(makeGptConfig('gpt1', { vocabSize: 50, maxLen: 12, layers: 2, dModel: 16, h: 4, dFF: 40, tiedHead: false, seed: 3 }));
    for (const [name, model] of [['gpt2 tiny', loadHfGpt2(TINY)], ['gpt1', gpt1]] as const) {
      model.eval();
      assert.ok(gptStepApplies(model), `${name}: the step applies in eval mode`);
      const V = model.config.vocabSize;
      const fused = FusedDecoderStep.forGpt(model);
      const [viaStep, viaModules] = [model.emptyCache(), model.emptyCache()];
      const prompt = tensor([3, 9, 1], [1, 3], 'int32');
      noGrad(() => { model.forward(prompt, viaStep); model.forward(prompt, viaModules); });
      for (const id of [7, 0, 42, 11]) {
        const got = fused.step(Int32Array.of(id), viaStep, null);
        assert.ok(got !== null, `${name}: the ${getBackend().name} backend's path accepts the step`);
        const want = await noGrad(() => logSoftmax(model.forward(tensor([id], [1, 1], 'int32'), viaModules).reshape([1, V]), -1)).data();
        const have = await got.data();
        for (let v = 0; v < V; v++) assert.ok(Math.abs(have[v]! - want[v]!) < 1e-5 * Math.max(1, Math.abs(want[v]!)), `${name}, token after ${id}: ${have[v]} vs ${want[v]} at ${v}`);
      }
      assert.equal(viaStep[0]!.k!.shape[2], 7, 'the step appended its positions to the caches');
    }
  });

  test('the step\'s guard refuses other layouts, mixed cross-attention operands and unknown activations, naming them', () => {
    const path = getBackend().fused.decoderStep!;
    const none = { crossQW: null, crossQB: null, crossOutW: null, crossOutB: null, norm2G: null, norm2B: null, crossK: null, crossV: null };
    const ok = { sublayers: [...ENCODER_SUBLAYERS], layers: [none], srcPad: null, activation: 'gelu-tanh' } as unknown as DecoderStepArgs;
    assert.equal(path.refuses(ok), null);
    assert.match(path.refuses({ ...ok, sublayers: ['feedForward', 'selfAttention'] })!, /its layers are \[feedForward, selfAttention\]; the kernel computes/);
    assert.match(path.refuses({ ...ok, srcPad: { buf: null, offset: 0 } as unknown as Dense })!, /decoder-only step was given encoder-decoder attention operands/);
    assert.match(path.refuses({ ...ok, activation: 'swish' })!, /activation 'swish'/);
  });

  test('without the fused path, and in training mode, generation runs the modules and gives the same tokens', async () => {
    const model = loadHfGpt2(TINY);
    const fused = await collect(generate(model, [5, 77, 200], { maxNewTokens: 8, temperature: 0 }));
    const modules = await onBackend(coreOnly(getBackend()), () => collect(generate(model, [5, 77, 200], { maxNewTokens: 8, temperature: 0 })));
    assert.deepEqual(fused, modules);
    model.train();
    assert.equal(gptStepApplies(model), false, 'not in training mode (dropout)');
  });

  test('greedy generation equals the argmax of recomputing the whole prefix each step', async () => {
    const model = loadHfGpt2(TINY);
    const prompt = [5, 77, 200];
    const produced = await collect(generate(model, prompt, { maxNewTokens: 8, temperature: 0 }));
    const seq = [...prompt];
    for (let i = 0; i < 8; i++) {
      const logits = await noGrad(() => model.forward(tensor(seq, [1, seq.length], 'int32'))).data();
      const V = model.config.vocabSize;
      const last = logits.slice((seq.length - 1) * V, seq.length * V);
      seq.push(last.indexOf(Math.max(...last)));
    }
    assert.deepEqual(produced, seq.slice(prompt.length));
  });
});

test('GPT\'s blocks run the sublayers the fused decoder step computes', () => {
  assert.deepEqual([...ENCODER_SUBLAYERS], [...DECODER_ONLY_STEP_SUBLAYERS],
    'nn/encoder.ts ENCODER_SUBLAYERS changed: teach backend/ts/decoder-step.ts and native/kernels/decoder_step.cc the new sublayer, then update backend.ts DECODER_ONLY_STEP_SUBLAYERS (until then the fused step refuses GPT\'s blocks and generation runs the modules)');
});

test('sampling is seeded, stops at the context and at stopId', async () => {
  const model = loadHfGpt2(TINY);
  const a = await collect(generate(model, [1, 2], { maxNewTokens: 30, temperature: 0.8, topK: 20, topP: 0.9 }));
  const b = await collect(generate(model, [1, 2], { maxNewTokens: 30, temperature: 0.8, topK: 20, topP: 0.9 }));
  assert.deepEqual(a, b);
  assert.equal(a.length, 16 - 2, 'stops when the 16-token context is full');
  const [first] = await collect(generate(model, [1, 2], { maxNewTokens: 1, temperature: 0 }));
  assert.deepEqual(await collect(generate(model, [1, 2], { maxNewTokens: 30, temperature: 0, stopId: first })), [first]);
});

test('bad prompts: too long for the context, an unknown token id', async () => {
  const model = loadHfGpt2(TINY);
  await assert.rejects(collect(generate(model, Array(17).fill(1), { maxNewTokens: 1 })), /the prompt has 17 tokens, more than the model's context of 16/);
  await assert.rejects(collect(generate(model, [1, 264], { maxNewTokens: 1 })), /token id 264 at position 1 is outside the vocabulary \[0, 264\)/);
});

test('tokenizer.json (byte-level BPE) encodes as vocab.json + merges.txt; other model types are refused by name', async () => {
  const fromFiles = await Gpt2Tokenizer.loadVocabMerges(join(TINY, 'vocab.json'), join(TINY, 'merges.txt'));
  const vocab = JSON.parse(readFileSync(join(TINY, 'vocab.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(join(TINY, 'merges.txt'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const json = (type: string): string => JSON.stringify({ version: '1.0', model: { type, vocab, merges: merges.map((m) => m.split(' ')) } });
  const text = 'the other theatre, in our hearts';
  assert.deepEqual(Gpt2Tokenizer.fromTokenizerJson(json('BPE')).encode(text), fromFiles.encode(text));
  assert.throws(() => Gpt2Tokenizer.fromTokenizerJson(json('WordPiece')), /model type "WordPiece" is not supported; supported: "BPE"/);
});

test('the tokenizer files written back equal the fixture\'s; the bundled ranks give GPT-2\'s published first merges', async () => {
  const fromFiles = await Gpt2Tokenizer.loadVocabMerges(join(TINY, 'vocab.json'), join(TINY, 'merges.txt'));
  assert.deepEqual(fromFiles.vocabObject(), JSON.parse(readFileSync(join(TINY, 'vocab.json'), 'utf8')));
  assert.equal(fromFiles.mergesText(), readFileSync(join(TINY, 'merges.txt'), 'utf8'));
  const bundled = await Gpt2Tokenizer.bundled();
  const first = bundled.mergePairs().slice(0, 6).map(([a, b]) => `${bundled.tokenText(a)} ${bundled.tokenText(b)}`);
  assert.deepEqual(first, ['Ġ t', 'Ġ a', 'h e', 'i n', 'r e', 'o n']); // openai-community/gpt2 merges.txt, lines 2-7
});

test('directories: a config whose sizes disagree with the weights, and a tokenizer larger than the vocabulary', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-gpt-'));
  try {
    cpSync(TINY, dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, n_embd: 4096 }));
    await assert.rejects(loadGptDir(dir), /declares \d+ parameters, but .*model\.safetensors holds only \d+ bytes/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, n_embd: 20 }));
    saveSafetensors(join(dir, 'model.safetensors'), Object.fromEntries([...loadSafetensors(join(TINY, 'model.safetensors')).tensors].map(([n, t]) => [n, { ...t, dtype: 'F32' as const }])));
    await assert.rejects(loadGptDir(dir), /'wte\.weight' has shape \[264, 16\], the config implies \[264, 20\]/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, vocab_size: 200 }));
    await assert.rejects(loadGptDir(dir), /the tokenizer has 264 tokens, more than the model's vocabulary of 200/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('aiayn generate streams a continuation of an HF directory, and names a bad prompt', () => {
  const ok = cli('generate', '--model', TINY, '--prompt', 'the', '--max-new-tokens', '5', '--temperature', '0');
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(ok.stdout.startsWith('the'), ok.stdout);
  const long = cli('generate', '--model', TINY, '--prompt', 'x'.repeat(40));
  assert.equal(long.status, 2);
  assert.match(long.stderr, /the prompt has 40 tokens, more than the model's context of 16/);
});

test('slide: past a full context, each token is the one the last maxLen - 1 tokens give, recomputed', async () => {
  const model = loadHfGpt2(TINY);
  const produced = await collect(generate(model, [3, 4], { maxNewTokens: 20, temperature: 0, slide: true }));
  assert.equal(produced.length, 20);
  const seq = [3, 4, ...produced];
  for (let i = 16; i < seq.length; i++) { // token i from the 15 before it
    const window = seq.slice(i - 15, i);
    const logits = await noGrad(() => model.forward(tensor(window, [1, 15], 'int32'))).data();
    const last = Array.from(logits.slice(14 * 264, 15 * 264));
    assert.equal(seq[i], last.indexOf(Math.max(...last)), `token ${i}`);
  }
});
