// Tensors live in their backend's memory: values come back through `await t.data()` everywhere and synchronously
// on host backends only; moving between backends is explicit (`await t.to(name)`). A stand-in for a device backend
// (the TypeScript kernels with synchronous reads withheld) shows that training, decoding, evaluation and attention
// maps read only through the async path.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { availableBackends, getBackend, setBackend, tsBackend } from '../src/backend/index.js';
import { readMulti30k } from '../src/data/corpora.js';
import { PAD_ID, BOS_ID, EOS_ID } from '../src/data/bpe.js';
import { translate } from '../src/decode/translate.js';
import { attentionMaps } from '../src/inspect/attention.js';
import { loadModelDir } from '../src/io/model-dir.js';
import { tensor } from '../src/tensor/index.js';
import { trainPreset } from '../src/train/presets.js';
import { trainTranslation } from '../src/train/translation.js';
import { onBackend } from './helpers/backends.js';

/** The TypeScript kernels behind a backend that, like a GPU's, owns device memory and reads only asynchronously. */
const device: Backend = { ...tsBackend, name: 'webgpu', memory: 'device', readSync: null };
const host: Backend = availableBackends().includes('native') ? setBackend('native') : tsBackend;

test('values read asynchronously everywhere; synchronous reads refuse on a device backend, naming the async call', async () => {
  const x = await onBackend(device, () => tensor([[1, 2, 3], [4, 5, 6]]));
  assert.deepEqual(Array.from(await x.data()), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(await x.transpose().array(), [[1, 4], [2, 5], [3, 6]]);
  assert.throws(() => x.toArray(), /toArray: the 'webgpu' backend reads asynchronously; use await t\.data\(\)/);
  assert.throws(() => x.slice(1, 0, 1).slice(0, 0, 1).reshape([]).item(), /item: the 'webgpu' backend reads asynchronously; use await t\.itemAsync\(\)/);
  assert.equal(await x.slice(0, 1, 2).slice(1, 2, 3).reshape([]).itemAsync(), 6);
  const ids = await onBackend(device, () => tensor([3, 1], [2], 'int32'));
  assert.deepEqual(Array.from(ids.hostIds()!), [3, 1], 'ids written from the host stay checkable there');
});

test('a tensor of another kind of memory is refused by ops and moves with to()', async () => {
  const onDevice = await onBackend(device, () => tensor([1.5, -2], [2]));
  await onBackend(host, () => {
    assert.throws(() => onDevice.add(1), /add: tensor of shape \[2\] lives on the 'webgpu' backend, but '(native|ts)' runs; move it with await t\.to\('(native|ts)'\)/);
  });
  const moved = await onBackend(host, () => onDevice.to(host.name));
  assert.equal(moved.storage.backend, host);
  assert.deepEqual(Array.from(moved.toArray()), [1.5, -2]);
  const back = await onBackend(device, () => moved.to('ts'));
  assert.notEqual(back.storage, moved.storage, 'to() copies');
  assert.deepEqual(Array.from(back.toArray()), [1.5, -2]);
  const hostA = await onBackend(tsBackend, () => tensor([1, 2], [2]));
  await onBackend(host, () => assert.deepEqual(Array.from(hostA.mul(2).toArray()), [2, 4], 'host backends share memory'));
});

test('training, evaluation, decoding and attention maps run on a backend without synchronous reads', async () => {
  const out = mkdtempSync(join(tmpdir(), 'aiayn-device-'));
  try {
    const train = (await readMulti30k('train', 'de', 'en')).slice(0, 300);
    const val = (await readMulti30k('val', 'de', 'en')).slice(0, 4);
    const result = await onBackend(device, () => trainTranslation({
      ...trainPreset('demo'), model: { dModel: 32, dFF: 64, h: 2, encoderLayers: 1, decoderLayers: 1, dropout: 0.1, attentionDropout: 0.1, maxLen: 64 },
      vocabSize: 400, batchTokens: 256, maxSteps: 3, maxMinutes: 0, evalEvery: 3, bleuSentences: 2, checkpointEvery: 3, clipNorm: 1,
      train, val, out, progress: false, log: () => {},
    }));
    assert.equal(result.steps, 3);
    assert.ok(Number.isFinite(result.trainLoss) && Number.isFinite(result.valLoss), JSON.stringify(result));
    const { model, tokenizer } = await onBackend(device, () => loadModelDir(out));
    const special = { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID };
    const onDevice = await onBackend(device, () => translate(model, tokenizer, [val[0]!.src], { special, beam: 2, maxLenB: 4 }));
    const maps = await onBackend(device, () => attentionMaps(model, tokenizer, val[0]!.src, 'A man.'));
    assert.equal(maps.cross.length, 1);
    const { model: hostModel } = await onBackend(host, () => loadModelDir(out));
    assert.deepEqual(await onBackend(host, () => translate(hostModel, tokenizer, [val[0]!.src], { special, beam: 2, maxLenB: 4 })), onDevice);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a backend that cannot allocate names the tensor and its size', async () => {
  const full: Backend = { ...device, alloc: () => { throw new Error('out of device memory (requested 4294967296 bytes)'); } };
  await onBackend(full, () => {
    assert.throws(() => tensor([1, 2, 3, 4, 5, 6], [2, 3]),
      /^Error: cannot allocate a float32 tensor of shape \[2, 3\] \(24 bytes\) on the webgpu backend: out of device memory/);
  });
});
