// BERT and RoBERTa against PyTorch: tiny random checkpoints in the Hugging Face layouts, written with reference
// MLM logits, loss and every parameter's gradient (padded batch, token types, -100 labels) by
// scripts/make-bert-fixtures.py; loaded with loadHfBert and compared on every backend within 1e-4 relative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadHfBert, saveHfBert } from '../src/io/hf-bert.js';
import { toHfTensors } from '../src/io/hf-bert-names.js';
import { loadSafetensors, saveSafetensors, type SafetensorsTensor } from '../src/io/safetensors.js';
import { Bert } from '../src/models/bert.js';
import { makeBertConfig } from '../src/models/bert-config.js';
import { noGrad, tensor, type Tensor } from '../src/tensor/index.js';
import { forEachBackend } from './helpers/backends.js';
import { relError } from './helpers/rel-error.js';

const TOLERANCE = 1e-4;
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const ids = (t: SafetensorsTensor): Tensor => tensor(t.data, t.shape, 'int32');

forEachBackend('BERT parity with PyTorch', () => {
  for (const name of ['bert-tiny', 'roberta-tiny']) {
    test(`${name}: MLM logits, loss and every gradient within 1e-4`, async (t) => {
      const { model } = loadHfBert(fixture(name));
      model.eval();
      const ref = loadSafetensors(join(fixture(name), 'reference.safetensors')).tensors;
      const inputs = { tokenTypes: ids(ref.get('input.token_types')!), attentionMask: ids(ref.get('input.attention_mask')!) };
      const x = ids(ref.get('input.ids')!);
      const logits = noGrad(() => model.mlmLogits(x, inputs));
      assert.deepEqual(logits.shape, ref.get('expected.logits')!.shape);
      const logitsErr = relError(await logits.data(), ref.get('expected.logits')!.data);
      assert.ok(logitsErr < TOLERANCE, `logits: relative error ${logitsErr}`);

      model.zeroGrad();
      const loss = model.mlmLoss(x, ids(ref.get('input.labels')!), inputs);
      loss.backward();
      const lossErr = Math.abs((await loss.data())[0]! - ref.get('expected.loss')!.data[0]!) / ref.get('expected.loss')!.data[0]!;
      assert.ok(lossErr < TOLERANCE, `loss: relative error ${lossErr}`);
      const ours: Array<[string, { shape: readonly number[]; data: Float32Array }]> = [];
      for (const [n, p] of model.namedParameters()) ours.push([n, { shape: p.shape, data: (await p.grad!.data()) as Float32Array }]);
      const grads = toHfTensors(model.config, ours);
      const expected = [...ref.keys()].filter((n) => n.startsWith('grad.'));
      assert.equal(grads.size, expected.length, 'as many gradients as PyTorch has');
      let worst = 0;
      for (const n of expected) {
        const g = grads.get(n.slice('grad.'.length));
        assert.ok(g !== undefined, `a gradient for ${n}`);
        if (n.endsWith('self.key.bias')) { // no gradient in exact arithmetic: softmax ignores a constant added to a query's scores
          for (const v of [...g.data, ...ref.get(n)!.data]) assert.ok(Math.abs(v) < 1e-6, `${n}: ${v} should be ~0`);
          continue;
        }
        const err = relError(g.data, ref.get(n)!.data);
        worst = Math.max(worst, err);
        assert.ok(err < TOLERANCE, `${n}: relative error ${err}`);
      }
      t.diagnostic(`${name}: logits ${logitsErr.toExponential(2)}, loss ${lossErr.toExponential(2)}, worst of ${expected.length} gradients ${worst.toExponential(2)}`);
    });
  }
});

test('save then load an HF directory gives the same tensors (RoBERTa, classifier with labels)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-bert-'));
  try {
    const model = new Bert(makeBertConfig('roberta-tiny', { vocabSize: 40, hiddenSize: 16, intermediateSize: 32, numLabels: 3, seed: 4 }));
    await saveHfBert(dir, model, ['a', 'b', 'c']);
    const names = [...loadSafetensors(join(dir, 'model.safetensors')).tensors.keys()];
    assert.ok(names.includes('roberta.encoder.layer.1.attention.self.value.weight') && names.includes('classifier.out_proj.bias'), names.join());
    const back = loadHfBert(dir);
    assert.deepEqual(back.labels, ['a', 'b', 'c']);
    for (const [n, p] of model.stateDict()) assert.deepEqual(back.model.stateDict().get(n)!.toArray(), p.toArray(), n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

forEachBackend('BERT classifier parity with PyTorch', () => {
  test('a pretraining checkpoint loads as a classifier (its pooler kept, a new classifier); logits within 1e-4', async () => {
    const { model, labels } = loadHfBert(fixture('bert-tiny'), { labels: ['a', 'b', 'c'] });
    assert.deepEqual(labels, ['a', 'b', 'c']);
    const ref = loadSafetensors(join(fixture('bert-tiny'), 'reference.safetensors')).tensors;
    model.loadStateDict(new Map([['classifier.weight', ref.get('classifier.weight')!], ['classifier.bias', ref.get('classifier.bias')!]]), { strict: false });
    model.eval();
    const inputs = { tokenTypes: ids(ref.get('input.token_types')!), attentionMask: ids(ref.get('input.attention_mask')!) };
    const logits = noGrad(() => model.classify(ids(ref.get('input.ids')!), inputs));
    const err = relError(await logits.data(), ref.get('expected.class_logits')!.data);
    assert.ok(err < TOLERANCE, `class logits: relative error ${err}`);
  });
});

test('errors name the problem: position limit, token types, config vs weights, missing tensor', () => {
  const { model } = loadHfBert(fixture('bert-tiny'));
  assert.throws(() => model.mlmLogits(tensor([Array(17).fill(5)], [1, 17], 'int32')), /17 tokens needs position 16, past the limit of 16 positions/);
  assert.throws(() => model.mlmLogits(tensor([[5, 6]], [1, 2], 'int32'), { tokenTypes: tensor([[0, 2]], [1, 2], 'int32') }), /token-type id 2 at position 1 is out of range \[0, 2\)/);
  const rob = loadHfBert(fixture('roberta-tiny')).model;
  assert.throws(() => rob.mlmLogits(tensor([Array(17).fill(5)], [1, 17], 'int32')), /at most 16 tokens/);
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-bert-'));
  try {
    copyFileSync(join(fixture('bert-tiny'), 'model.safetensors'), join(dir, 'model.safetensors'));
    const config = JSON.parse(readFileSync(join(fixture('bert-tiny'), 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 48 }));
    assert.throws(() => loadHfBert(dir), /bert\.encoder\.layer\.0\.intermediate\.dense\.weight is \[64, 32\], config implies \[48, 32\]/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const tensors = loadSafetensors(join(dir, 'model.safetensors')).tensors;
    tensors.delete('bert.encoder.layer.1.attention.self.key.bias');
    saveSafetensors(join(dir, 'model.safetensors'), Object.fromEntries([...tensors].map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data }])));
    assert.throws(() => loadHfBert(dir), /missing tensors: bert\.encoder\.layer\.1\.attention\.self\.key\.bias$/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, hidden_act: 'gelu_new' }));
    assert.throws(() => loadHfBert(dir), /hidden_act "gelu_new" is not supported/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
