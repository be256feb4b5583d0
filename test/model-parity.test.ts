// Parity with PyTorch: the tutorial's Seq2SeqTransformer (torch.nn.Transformer) and ours, with identical
// weights, on a ragged padded batch: logits, the label-smoothed loss and the gradient of every parameter.
// Fixtures come from scripts/make-model-fixtures.py (float64 reference, stored as float32).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadSafetensors, type SafetensorsTensor } from '../src/io/safetensors.js';
import { loadTorchStateDict, toTorchName, toTorchStateDict } from '../src/io/torch-names.js';
import type { TransformerConfig } from '../src/models/config.js';
import { lossAndGrads } from '../src/train/loss.js';
import { Transformer } from '../src/models/transformer.js';
import { noGrad, tensor } from '../src/tensor/index.js';
import { getBackend } from '../src/backend/index.js';
import { onBackend } from './helpers/backends.js';
import { relError } from './helpers/rel-error.js';
import { webgpuOrSkip } from './helpers/webgpu.js';
import type { Tensor } from '../src/tensor/index.js';

const TOLERANCE = 1e-4;

function load(name: string): { config: TransformerConfig; padId: number; tensors: Map<string, SafetensorsTensor> } {
  const file = loadSafetensors(fileURLToPath(new URL(`./fixtures/model/${name}.safetensors`, import.meta.url)));
  return { config: JSON.parse(file.metadata.get('config')!) as TransformerConfig, padId: Number(file.metadata.get('pad_id')), tensors: file.tensors };
}

function ids(t: SafetensorsTensor): Tensor { return tensor(t.data, t.shape, 'int32'); }

for (const [name, backend] of [['post-ln', 'default'], ['pre-ln', 'default'], ['post-ln', 'webgpu'], ['pre-ln', 'webgpu']] as const) {
  test(`model parity with torch.nn.Transformer (${name}, ${backend} backend)`, async (t) => {
    if (backend === 'default') { await parity(t, name); return; }
    const gpu = await webgpuOrSkip(t);
    if (gpu !== undefined) await onBackend(gpu, () => parity(t, name));
  });
}

/** Logits, loss, every gradient and the state dict's round trip of fixture `name` on the current backend. */
async function parity(t: TestContext, name: string): Promise<void> {
  const { config, padId, tensors } = load(name);
  const model = new Transformer(config).eval();
  const weights = new Map([...tensors].filter(([n]) => !/^(input|expected|grad)\./.test(n)));
  loadTorchStateDict(model, weights);
  const src = ids(tensors.get('input.src')!);
  const tgtIn = ids(tensors.get('input.tgt_in')!);
  const tgtOut = ids(tensors.get('input.tgt_out')!);

  const logits = noGrad(() => model.forward(src, tgtIn, padId));
  const logitsErr = relError(await logits.data(), tensors.get('expected.logits')!.data);
  assert.deepEqual(logits.shape, tensors.get('expected.logits')!.shape);
  assert.ok(logitsErr < TOLERANCE, `logits: relative error ${logitsErr}`);

  const { loss, grads } = await lossAndGrads(model, src, tgtIn, tgtOut, { labelSmoothing: config.labelSmoothing, padId });
  const lossErr = Math.abs(loss - tensors.get('expected.loss')!.data[0]!) / Math.abs(tensors.get('expected.loss')!.data[0]!);
  assert.ok(lossErr < TOLERANCE, `loss: relative error ${lossErr}`);
  let worst = { name: '', err: 0 };
  const params = model.namedParameters();
  assert.equal(grads.size, params.length, 'every parameter has a gradient');
  for (const [pname] of params) {
    const expected = tensors.get(`grad.${toTorchName(pname)}`);
    assert.ok(expected !== undefined, `fixture has a gradient for ${pname}`);
    const err = relError(await grads.get(pname)!.data(), expected.data);
    if (err > worst.err) worst = { name: pname, err };
    assert.ok(err < TOLERANCE, `grad of ${pname}: relative error ${err}`);
  }
  t.diagnostic(`${name} (${getBackend().name}): logits ${logitsErr.toExponential(2)}, loss ${lossErr.toExponential(2)}, worst grad ${worst.err.toExponential(2)} (${worst.name}), ${params.length} parameters`);

  // And back: our state dict in PyTorch names reproduces the fixture's weights.
  const back = await toTorchStateDict(model);
  for (const [n, w] of weights) assert.ok(relError(back.get(n)!.data, w.data) < 1e-6, `round trip of ${n}`);
  assert.deepEqual([...back.keys()].sort(), [...weights.keys()].sort());
}
