// The demo recipe on WebGPU: 50 training steps (dropout on, drawn bit for bit as on the CPU backends) give the
// losses that native gives, and the trained model translates on WebGPU as on native. In CI the adapter is
// SwiftShader, software Vulkan on the CPU, so the model is the demo's shrunk to d_model 32 to run in about a minute.
// Skips without an adapter unless AIAYN_REQUIRE_WEBGPU=1.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { availableBackends, setBackend, tsBackend } from '../src/backend/index.js';
import { PAD_ID, BOS_ID, EOS_ID } from '../src/data/bpe.js';
import { readMulti30k } from '../src/data/corpora.js';
import { translate } from '../src/decode/translate.js';
import { loadModelDir } from '../src/io/model-dir.js';
import { trainPreset } from '../src/train/presets.js';
import { trainTranslation } from '../src/train/translation.js';
import { onBackend } from './helpers/backends.js';
import { webgpuOrSkip } from './helpers/webgpu.js';

const host: Backend = availableBackends().includes('native') ? setBackend('native') : tsBackend;
const train = (await readMulti30k('train', 'de', 'en')).slice(0, 1000);
const val = (await readMulti30k('val', 'de', 'en')).slice(0, 6);

/** Trains 50 steps of the shrunk demo recipe on `backend`; returns the per-step losses and greedy translations. */
async function run(backend: Backend): Promise<{ losses: number[]; hyps: string[] }> {
  const out = mkdtempSync(join(tmpdir(), 'aiayn-gpu-train-'));
  try {
    return await onBackend(backend, async () => {
      await trainTranslation({
        ...trainPreset('demo'), model: { ...trainPreset('demo').model, dModel: 32, dFF: 64, h: 2, encoderLayers: 1, decoderLayers: 1, maxLen: 64 },
        vocabSize: 500, batchTokens: 512, maxSteps: 50, maxMinutes: 0, evalEvery: 1000, bleuSentences: 0, checkpointEvery: 50,
        train, val, out, progress: false, log: () => {},
      });
      const losses = readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { loss?: number })
        .flatMap((r) => (r.loss === undefined ? [] : [r.loss]));
      const { model, tokenizer } = await loadModelDir(out);
      const hyps = await translate(model, tokenizer, val.map((p) => p.src), { special: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID }, maxLenB: 10 });
      return { losses, hyps };
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test(`50 demo steps on WebGPU give the losses and translations of ${host.name}`, async (t) => {
  const gpu = await webgpuOrSkip(t);
  if (gpu === undefined) return;
  const started = performance.now();
  const onGpu = await run(gpu);
  const seconds = (performance.now() - started) / 1000;
  const onHost = await run(host);
  assert.equal(onGpu.losses.length, 50);
  let worst = 0;
  onGpu.losses.forEach((l, i) => {
    const rel = Math.abs(l - onHost.losses[i]!) / Math.abs(onHost.losses[i]!);
    worst = Math.max(worst, rel);
    assert.ok(rel <= 1e-4, `step ${i + 1}: loss ${l} on webgpu, ${onHost.losses[i]} on ${host.name}`);
  });
  assert.deepEqual(onGpu.hyps, onHost.hyps, 'greedy translations of the validation sentences');
  t.diagnostic(`losses ${onHost.losses[0]!.toFixed(3)} -> ${onHost.losses[49]!.toFixed(3)}, worst relative difference ${worst.toExponential(2)}; webgpu run ${seconds.toFixed(1)} s`);
});
