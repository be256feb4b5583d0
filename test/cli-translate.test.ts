// The translate / eval / average / convert commands on a freshly trained tiny model, and their errors on
// bad input: a missing or corrupt model directory, weights that do not match the config, empty and
// over-long input lines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readMulti30k } from '../src/data/corpora.js';
import { trainPreset } from '../src/train/presets.js';
import { listCheckpoints, trainTranslation } from '../src/train/translation.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";

/** Runs `aiayn ...args` from the sources. */
function aiayn(args: string[], stdin = ''): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT, ...args], { cwd: ROOT, input: stdin, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dir = tempDir('aiayn-cli-');
const model = join(dir, 'model');

before(async () => {
  const train = (await readMulti30k('train', 'de', 'en')).slice(0, 1500);
  const val = (await readMulti30k('val', 'de', 'en')).slice(0, 50);
  await trainTranslation({
    ...trainPreset('demo'), model: { dModel: 32, dFF: 64, h: 2, encoderLayers: 1, decoderLayers: 1, finalNorm: true, maxLen: 40 },
    vocabSize: 800, batchTokens: 1024, maxSteps: 20, maxMinutes: 0, evalEvery: 1000, bleuSentences: 0, checkpointEvery: 10,
    keepCheckpoints: 2, train, val, out: model, progress: false, log: () => {},
  });
});

test('translate writes one line per input line; empty lines stay empty; beam and sampling run', () => {
  const input = 'Ein Mann läuft.\n\nZwei Hunde spielen im Schnee.\n';
  for (const flags of [[], ['--beam', '3'], ['--sample', '--top-k', '5', '--seed', '1']]) {
    const r = aiayn(['translate', '--model', model, ...flags], input);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.equal(lines.length, 4, `three lines and a final newline for ${flags.join(' ')}: ${JSON.stringify(r.out)}`);
    assert.equal(lines[1], '');
  }
});

test('a line longer than the model maximum is truncated with a warning', () => {
  const long = Array.from({ length: 80 }, (_, i) => `Wort${i}`).join(' ');
  const r = aiayn(['translate', '--model', model], long + '\n');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /line 1 has \d+ tokens, more than the model's 40; truncated/);
});

test('missing, corrupt and mismatched model directories give clear errors', () => {
  let r = aiayn(['translate', '--model', join(dir, 'nope')], 'x\n');
  assert.equal(r.code, 2);
  assert.match(r.err, /model directory .*nope does not exist/);

  const corrupt = join(dir, 'corrupt');
  cpSync(model, corrupt, { recursive: true });
  writeFileSync(join(corrupt, 'config.json'), '{"format": "aiayn-model", ');
  r = aiayn(['translate', '--model', corrupt], 'x\n');
  assert.equal(r.code, 2);
  assert.match(r.err, /config\.json: not valid JSON/);

  const mismatched = join(dir, 'mismatched');
  cpSync(model, mismatched, { recursive: true });
  const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
  config.model.dFF = 96;
  writeFileSync(join(mismatched, 'config.json'), JSON.stringify(config));
  r = aiayn(['translate', '--model', mismatched], 'x\n');
  assert.equal(r.code, 2);
  assert.match(r.err, /weights do not match the model config[\s\S]*linear1\.weight/);
});

test('eval scores a test set; average writes weights that translate uses', () => {
  const src = join(dir, 'src.de');
  const ref = join(dir, 'ref.en');
  writeFileSync(src, 'Ein Mann läuft.\nZwei Hunde spielen.\n');
  writeFileSync(ref, 'A man runs.\nTwo dogs play.\n');
  let r = aiayn(['eval', '--model', model, '--src', src, '--ref', ref, '--json']);
  assert.equal(r.code, 0, r.err);
  const scores = JSON.parse(r.out) as { bleu: number; chrf: number; sentences: number };
  assert.equal(scores.sentences, 2);
  assert.ok(scores.bleu >= 0 && scores.bleu <= 100 && scores.chrf >= 0);

  const ckpts = listCheckpoints(join(model, 'checkpoints'));
  const averaged = join(dir, 'avg.safetensors');
  r = aiayn(['average', ...ckpts, '-o', averaged]);
  assert.equal(r.code, 0, r.err);
  r = aiayn(['translate', '--model', model, '--weights', averaged], 'Ein Mann.\n');
  assert.equal(r.code, 0, r.err);
  r = aiayn(['average', '-o', join(dir, 'x.safetensors'), join(dir, 'missing.safetensors')]);
  assert.equal(r.code, 2);
  assert.ok(!existsSync(join(dir, 'x.safetensors')));
});

test('convert moves a model to the PyTorch tutorial names and back', () => {
  const torchFile = join(dir, 'torch.safetensors');
  let r = aiayn(['convert', '--to', 'torch', '--model', model, '-o', torchFile]);
  assert.equal(r.code, 0, r.err);
  const configFile = join(dir, 'config-for-convert.json');
  writeFileSync(configFile, JSON.stringify(JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')).model));
  const back = join(dir, 'back');
  r = aiayn(['convert', '--from', 'torch', torchFile, '--config', configFile, '-o', back, '--tokenizer', join(model, 'tokenizer.json')]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readdirSync(back).sort(), ['config.json', 'tokenizer.json', 'weights.safetensors']);
  const a = aiayn(['translate', '--model', model], 'Ein Mann läuft.\n');
  const b = aiayn(['translate', '--model', back], 'Ein Mann läuft.\n');
  assert.equal(b.out, a.out);
});
