// Parity with PyTorch: a GPT-2 checkpoint directory in Hugging Face's layout (written with random weights by
// scripts/make-gpt2-fixtures.py, float64 reference stored as float32) loads into our GPT, whose logits, next-token
// loss on a right-padded batch and every parameter's gradient match; likewise GPT-1's post-LN blocks. On each backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relError } from './helpers/rel-error.js';
import { HfTensors } from '../src/io/hf.js';
import { gpt2Tensors, loadGpt2Weights, loadHfGpt2, saveHfGpt2, toHfGpt2Name } from '../src/io/hf-gpt2.js';
import { loadSafetensors, saveSafetensors, type SafetensorsTensor } from '../src/io/safetensors.js';
import { Gpt } from '../src/models/gpt.js';
import { makeGptConfig } from '../src/models/gpt-config.js';
import { noGrad, tensor } from '../src/tensor/index.js';
import { forEachBackend } from './helpers/backends.js';

const TOLERANCE = 1e-4;
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const TINY = join(FIXTURES, 'gpt2-tiny');

/** Logits, loss and every gradient of `model` against the reference tensors. */
async function assertParity(model: Gpt, ref: Map<string, SafetensorsTensor>): Promise<string> {
  const ids = tensor(ref.get('input.ids')!.data, ref.get('input.ids')!.shape, 'int32');
  const targets = tensor(ref.get('input.targets')!.data, ref.get('input.targets')!.shape, 'int32');
  const logits = noGrad(() => model.forward(ids));
  assert.deepEqual(logits.shape, ref.get('expected.logits')!.shape);
  const logitsErr = relError(await logits.data(), ref.get('expected.logits')!.data);
  assert.ok(logitsErr < TOLERANCE, `logits: relative error ${logitsErr}`);
  model.zeroGrad();
  const loss = model.loss(ids, targets, { ignoreIndex: -100 });
  const lossErr = Math.abs((await loss.itemAsync()) - ref.get('expected.loss')!.data[0]!) / Math.abs(ref.get('expected.loss')!.data[0]!);
  assert.ok(lossErr < TOLERANCE, `loss: relative error ${lossErr}`);
  loss.backward();
  let worst = 0;
  for (const [name, p] of model.namedParameters()) {
    const hf = toHfGpt2Name(name);
    const expected = ref.get(`grad.transformer.${hf.name}`);
    assert.ok(expected !== undefined, `the reference has a gradient for ${name} (${hf.name})`);
    assert.ok(p.grad !== null, `${name} has a gradient`);
    const [rows, cols] = p.shape as [number, number];
    const got = (await p.grad.data()) as Float32Array;
    const err = relError(hf.transpose ? transposeOf(got, rows, cols) : got, expected.data);
    worst = Math.max(worst, err);
    assert.ok(err < TOLERANCE, `grad of ${name}: relative error ${err}`);
  }
  return `logits ${logitsErr.toExponential(2)}, loss ${lossErr.toExponential(2)}, worst grad ${worst.toExponential(2)}`;
}

function transposeOf(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

forEachBackend('GPT parity with PyTorch', () => {
  test('GPT-2: an HF checkpoint directory (transformer. names, Conv1D, mask buffers, tied head) loads; logits and gradients match', async (t) => {
    const model = loadHfGpt2(TINY);
    assert.deepEqual([model.config.layers, model.config.h, model.config.dModel, model.config.vocabSize], [2, 2, 16, 264]);
    t.diagnostic(await assertParity(model, loadSafetensors(join(TINY, 'reference.safetensors')).tensors));
  });

  test('GPT-1: post-LN blocks without a final LayerNorm match', async (t) => {
    const file = loadSafetensors(join(FIXTURES, 'gpt1-tiny.safetensors')).tensors;
    const model = new Gpt(makeGptConfig('gpt1', { vocabSize: 264, maxLen: 16, layers: 2, h: 2, dModel: 16, dFF: 64 })).eval();
    const weights = new Map([...file].filter(([n]) => !/^(input|expected|grad)\./.test(n)).map(([n, v]) => [n.replace(/^transformer\./, ''), v]));
    loadGpt2Weights(model, new HfTensors(weights, 'gpt1-tiny.safetensors'));
    t.diagnostic(await assertParity(model, file));
  });
});

test('saving writes the HF layout back: the same tensors, and names without transformer. load too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-gpt2-'));
  try {
    const model = loadHfGpt2(TINY);
    await saveHfGpt2(dir, model);
    const original = loadSafetensors(join(TINY, 'model.safetensors')).tensors;
    const saved = loadSafetensors(join(dir, 'model.safetensors')).tensors;
    for (const [name, t] of saved) assert.ok(relError(t.data, original.get(name)!.data) === 0, `round trip of ${name}`);
    assert.deepEqual([...saved.keys()].sort(), [...original.keys()].filter((n) => !/\.attn\.(bias|masked_bias)$/.test(n)).sort());
    // GPT2Model's names (no prefix), with an explicit lm_head.weight equal to wte.
    const bare = Object.fromEntries(Object.entries(await gpt2Tensors(model)).map(([n, t]) => [n.replace(/^transformer\./, ''), t]));
    saveSafetensors(join(dir, 'model.safetensors'), { ...bare, 'lm_head.weight': bare['wte.weight']! });
    const again = loadHfGpt2(dir);
    assert.equal(relError(await again.wte.weight.data(), await model.wte.weight.data()), 0);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('bad checkpoints get errors that name the tensor or the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-gpt2-'));
  try {
    cpSync(TINY, dir, { recursive: true });
    const tensors = Object.fromEntries([...loadSafetensors(join(TINY, 'model.safetensors')).tensors].map(([n, t]) => [n, { ...t, dtype: 'F32' as const }]));
    delete tensors['transformer.h.1.mlp.c_fc.bias'];
    tensors['transformer.h.0.attn.c_proj.weight'] = { dtype: 'F32', shape: [8, 32], data: new Float32Array(256) };
    tensors['transformer.h.0.attn.extra'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    saveSafetensors(join(dir, 'model.safetensors'), tensors);
    assert.throws(() => loadHfGpt2(dir), (err: Error) => /missing tensor 'h\.1\.mlp\.c_fc\.bias'/.test(err.message)
      && /'h\.0\.attn\.c_proj\.weight' has shape \[8, 32\], the config implies \[16, 16\]/.test(err.message)
      && /unexpected tensor 'h\.0\.attn\.extra'/.test(err.message));
    saveSafetensors(join(dir, 'config.json'), {}); // not JSON
    assert.throws(() => loadHfGpt2(dir), /config\.json: malformed JSON/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
