// GPT language-model training: the warmup + cosine schedule against nanoGPT's get_lr, AdamW's decay groups, and a
// short run of train-lm on a small text (loss falls; a killed-and-resumed run ends bit for bit where a straight one does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../src/decode/generate.js';
import { loadGptDir } from '../src/io/gpt-dir.js';
import { loadSafetensors } from '../src/io/safetensors.js';
import { full } from '../src/tensor/index.js';
import { trainLm, type LmRun } from '../src/train/lm.js';
import { lmPreset } from '../src/train/lm-presets.js';
import { AdamW } from '../src/train/optim.js';
import { cosineSchedule } from '../src/train/schedule.js';

test('cosineSchedule follows nanoGPT get_lr (warmup (it+1)/(warmup+1), cosine to min_lr at lr_decay_iters)', () => {
  const s = cosineSchedule({ lr: 1e-3, minLr: 1e-4, warmup: 100, decaySteps: 2000 });
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
  close(s.rate(1), 1e-3 / 101); // it = 0
  close(s.rate(100), 1e-3 * 100 / 101); // it = 99
  close(s.rate(101), 1e-3); // it = 100: cos(0)
  close(s.rate(1051), 5.5e-4); // halfway: (lr + min_lr) / 2
  close(s.rate(2001), 1e-4);
  close(s.rate(5000), 1e-4);
});

test('AdamW decays only the parameters `decays` selects', async () => {
  const [matrix, gain] = [full([2, 2], 1).requireGrad(true), full([2], 1).requireGrad(true)];
  const opt = new AdamW([matrix, gain], { lr: 0.1, weightDecay: 0.5, decays: (p) => p.rank >= 2 });
  matrix.grad = full([2, 2], 0);
  gain.grad = full([2], 0);
  opt.step();
  assert.deepEqual([...await matrix.data()], Array(4).fill(Math.fround(0.95))); // p - lr * wd * p
  assert.deepEqual([...await gain.data()], [1, 1]);
});

async function collect(it: AsyncGenerator<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const id of it) out.push(id);
  return out;
}

/** A tiny run over a short repetitive text. */
function tinyRun(out: string, textPath: string, maxSteps: number): LmRun {
  return {
    ...lmPreset('shakespeare-char'), model: { layers: 1, dModel: 16, h: 2, dFF: 32, maxLen: 16 }, batchSize: 4, maxSteps, warmup: 2, lrDecaySteps: 12,
    lr: 1e-2, evalEvery: 4, evalBatches: 2, sampleTokens: 8, checkpointEvery: 3, out, textPath, progress: false, log: () => {},
  };
}

test('train-lm: the loss falls, a sample is logged, and a resumed run matches a straight one bit for bit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-lm-'));
  try {
    const textPath = join(dir, 'text.txt');
    writeFileSync(textPath, 'to be or not to be, that is the question.\n'.repeat(40));
    const straight = await trainLm({ ...tinyRun(join(dir, 'a'), textPath, 12), maxSteps: 12 });
    const log = readFileSync(join(dir, 'a', 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const vals = log.filter((r) => typeof r['val_loss'] === 'number').map((r) => r['val_loss'] as number);
    assert.ok(vals.at(-1)! < vals[0]! - 0.3, `val loss falls: ${vals.join(', ')}`);
    assert.equal(typeof log.find((r) => typeof r['sample'] === 'string' && r['sample'] !== '')?.['sample'], 'string');
    const loaded = await loadGptDir(join(dir, 'a')); // the aiayn GPT directory 'aiayn generate --model' reads
    assert.equal(loaded.layout, 'aiayn');
    assert.equal(loaded.tokenizer.decode(loaded.tokenizer.encode('to be')), 'to be');
    assert.equal((await collect(generate(loaded.model, loaded.tokenizer.encode('to'), { maxNewTokens: 5, temperature: 0 }))).length, 5);
    await trainLm(tinyRun(join(dir, 'b'), textPath, 6));
    const resumed = await trainLm({ ...tinyRun(join(dir, 'b'), textPath, 12), resume: true });
    assert.equal(resumed.trainLoss, straight.trainLoss);
    const [wa, wb] = ['a', 'b'].map((d) => loadSafetensors(join(dir, d, 'weights.safetensors')).tensors);
    for (const [name, t] of wa!) assert.deepEqual(wb!.get(name)!.data, t.data, `weights of ${name}`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
