// Weights that are not finite are refused at load time, naming the file and the tensor (a NaN model used to
// translate every line to an empty one, silently); --allow-nonfinite loads them with a warning. A config.json
// that declares a model larger than its weights file can hold is refused before anything is allocated.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Bpe } from '../src/data/bpe.js';
import { loadModelDir, saveModelDir } from '../src/io/model-dir.js';
import { loadSafetensors, saveSafetensors } from '../src/io/safetensors.js';
import { findNonfinite } from '../src/io/validate.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
const dir = tempDir('aiayn-nonfinite-');
const good = join(dir, 'good');
const bad = join(dir, 'bad');
const POISONED = 'transformer.decoder.layers.0.feed_forward.linear2.weight';

before(async () => {
  const bpe = Bpe.learn(['Ein Hund läuft.', 'A dog runs.', 'Zwei Hunde.', 'Two dogs.'], { merges: 10 });
  const config = makeConfig('tiny', { srcVocab: bpe.vocabSize, tgtVocab: bpe.vocabSize, dModel: 16, dFF: 32, h: 2, encoderLayers: 1, decoderLayers: 1, maxLen: 16, seed: 1 });
  for (const d of [good, bad]) mkdirSync(d);
  for (const d of [good, bad]) await saveModelDir(d, new Transformer(config), bpe);
  const { tensors, metadata } = loadSafetensors(join(bad, 'weights.safetensors'));
  const w = tensors.get(POISONED)!;
  (w.data as Float32Array)[7] = NaN;
  (w.data as Float32Array)[9] = Infinity;
  saveSafetensors(join(bad, 'weights.safetensors'), Object.fromEntries([...tensors].map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data }])), Object.fromEntries(metadata));
});

test('findNonfinite counts NaN and both infinities and reports the first index', () => {
  const found = findNonfinite([['a', { data: [1, 2] }], ['b', { data: [0, -Infinity, NaN, 3e38] }], ['c', { data: new Float32Array([Infinity]) }]]);
  assert.deepEqual(found, [{ name: 'b', count: 2, index: 1, value: -Infinity }, { name: 'c', count: 1, index: 0, value: Infinity }]);
});

test('loading non-finite weights fails naming the file and the tensor; allowNonfinite loads them with a warning', async () => {
  await assert.doesNotReject(loadModelDir(good));
  const weights = join(bad, 'weights.safetensors');
  await assert.rejects(loadModelDir(bad), (err: Error) => {
    assert.equal(err.message, `${weights}: tensor '${POISONED}' holds 2 non-finite values (NaN at index 7); such weights translate to empty lines (pass --allow-nonfinite to load them anyway)`);
    return true;
  });
  const warnings: string[] = [];
  const { model } = await loadModelDir(bad, undefined, { allowNonfinite: true, warn: (w) => warnings.push(w) });
  assert.ok(Number.isNaN(model.stateDict().get(POISONED)!.toArray()[7]));
  assert.deepEqual(warnings, [`warning: ${weights}: tensor '${POISONED}' holds 2 non-finite values (NaN at index 7); loaded anyway (--allow-nonfinite), translations may be empty or garbage`]);
});

test('aiayn translate refuses a NaN model (exit 2, tensor named) and warns with --allow-nonfinite', () => {
  const cli = (...flags: string[]) => spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT, 'translate', '--model', bad, ...flags], { cwd: ROOT, input: 'Ein Hund.\n', encoding: 'utf8' });
  const refused = cli();
  assert.equal(refused.status, 2, refused.stderr);
  assert.equal(refused.stdout, '');
  assert.match(refused.stderr, new RegExp(`weights\\.safetensors: tensor '${POISONED.replace(/\./g, '\\.')}' holds 2 non-finite values`));
  const allowed = cli('--allow-nonfinite');
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.match(allowed.stderr, /aiayn: warning: .*loaded anyway \(--allow-nonfinite\)/);
  assert.equal(allowed.stdout.split('\n').length, 2, 'one output line');
});

test('a config.json declaring a model larger than its weights file is refused before allocating', async () => {
  const configPath = join(good, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  const huge = join(dir, 'huge');
  mkdirSync(huge);
  await saveModelDir(huge, new Transformer(config.model), await Bpe.load(join(good, 'tokenizer.json')));
  writeFileSync(join(huge, 'config.json'), JSON.stringify({ ...config, model: { ...config.model, dModel: 2 ** 20, dFF: 2 ** 22, h: 1 } }));
  const rss = process.memoryUsage().rss;
  await assert.rejects(loadModelDir(huge), new RegExp(`^Error: ${join(huge, 'config.json')}: declares a model of at least \\d+ parameters, more than ${join(huge, 'weights.safetensors')} \\(\\d+ bytes\\) can hold$`));
  assert.ok(process.memoryUsage().rss - rss < 2 ** 28, 'nothing large was allocated');
  writeFileSync(join(huge, 'config.json'), JSON.stringify({ ...config, model: { ...config.model, maxLen: 2 ** 24 } }));
  await assert.rejects(loadModelDir(huge), /config\.json: maxLen 16777216 x dModel 16 positions exceed the limit of 67108864 values/);
});
