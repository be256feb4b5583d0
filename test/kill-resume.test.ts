// Crashes mid-training: `aiayn train` killed with SIGKILL 3 times (one of them as a checkpoint write begins)
// and resumed each time ends with the weights and log of an uninterrupted run, bit for bit, and never leaves a
// file --resume cannot read (the long form, 20 kills: scripts/kill-resume.ts). Also what --resume cleans up: a
// torn log line, records past the checkpoint, temporaries of interrupted writes, an unreadable newest checkpoint.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readMulti30k } from '../src/data/corpora.js';
import { trainPreset } from '../src/train/presets.js';
import { loadNewestReadable, removeStaleTemps, truncateLog } from '../src/train/resume.js';
import { listCheckpoints, trainTranslation, type TranslationRun } from '../src/train/translation.js';
import { killResume, SMALL } from '../scripts/kill-resume.js';
import { tempDir } from './helpers/temp.js';

test('3 SIGKILLs and resumes: the same weights and losses as an uninterrupted run, no unreadable file', async () => {
  const report = await killResume({ kills: 3, seed: 2, steps: 20, pairs: 400, config: SMALL });
  assert.equal(report.kills, 3);
  assert.deepEqual(report.unreadable, []);
  assert.ok(report.weightsIdentical, 'weights.safetensors bit-identical');
  assert.ok(report.lossesIdentical, 'train-log.jsonl losses, learning rates and validation records identical');
  assert.equal(report.lossRecords, 20 + 5, '20 steps and validation at steps 0, 6, 12, 18 and 20');
});

test('truncateLog keeps the records up to the checkpoint and drops a torn last line; removeStaleTemps removes only temporaries', () => {
  const dir = tempDir('aiayn-resume-');
  const log = join(dir, 'train-log.jsonl');
  writeFileSync(log, '{"step":0,"val_loss":9}\n{"step":1,"loss":8}\n{"step":2,"loss":7}\n{"step":3,"lo');
  assert.deepEqual(truncateLog(log, 1), [{ step: 0, val_loss: 9 }, { step: 1, loss: 8 }]);
  assert.equal(readFileSync(log, 'utf8'), '{"step":0,"val_loss":9}\n{"step":1,"loss":8}\n');
  appendFileSync(log, 'garbage\n{"step":1,"loss":8}\n');
  assert.throws(() => truncateLog(log, 1), new RegExp(`${log}:3: not a JSON record`));
  for (const f of ['.ckpt-4.safetensors.123.lmx0abc.tmp', '.weights.safetensors.9.k1.tmp', 'ckpt-2.safetensors', 'notes.tmp']) writeFileSync(join(dir, f), 'x');
  assert.deepEqual(removeStaleTemps(dir).sort(), ['.ckpt-4.safetensors.123.lmx0abc.tmp', '.weights.safetensors.9.k1.tmp']);
  assert.deepEqual(readdirSync(dir).sort(), ['ckpt-2.safetensors', 'notes.tmp', 'train-log.jsonl']);
  const reports: string[] = [];
  assert.deepEqual(loadNewestReadable(['a', 'b'], (p) => { if (p === 'b') throw new Error('torn'); return p; }, (l) => reports.push(l)), { path: 'a', state: 'a' });
  assert.deepEqual(reports, ['cannot resume from b (torn); trying the one before']);
});

test('--resume skips a newest checkpoint it cannot read and continues from the one before, bit-exactly', async () => {
  const train = (await readMulti30k('train', 'de', 'en')).slice(0, 400);
  const val = (await readMulti30k('val', 'de', 'en')).slice(0, 20);
  const run = (out: string, maxSteps: number, resume = false): TranslationRun => ({
    ...trainPreset('demo'), ...SMALL, model: { ...trainPreset('demo').model, ...SMALL.model }, maxSteps, maxMinutes: 0, evalEvery: 1000, bleuSentences: 0,
    checkpointEvery: 4, keepCheckpoints: 3, train, val, out, progress: false, log: () => {}, resume,
  });
  const [straight, broken] = [tempDir('aiayn-straight-'), tempDir('aiayn-broken-')];
  await trainTranslation(run(straight, 12));
  await trainTranslation(run(broken, 8));
  const newest = listCheckpoints(join(broken, 'checkpoints')).at(-1)!;
  truncateSync(newest, 1000); // what a file system without atomic rename could leave
  const lines: string[] = [];
  await trainTranslation({ ...run(broken, 12, true), log: (l) => lines.push(l) });
  assert.match(lines[0]!, /cannot resume from .*ckpt-8\.safetensors \(safetensors: .*\); trying the one before/);
  assert.match(lines[1]!, /resumed from .*ckpt-4\.safetensors at step 4/);
  assert.deepEqual(readFileSync(join(broken, 'weights.safetensors')), readFileSync(join(straight, 'weights.safetensors')));
});
