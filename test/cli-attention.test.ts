// `aiayn attention` on a tiny random model directory: writes an HTML page and a PNG (also one layer and head
// only), prints what it wrote, and gives clear errors for a missing --src, an unknown output extension, a
// --head past the model's heads, a missing model directory and an output path it cannot write.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Bpe } from '../src/data/bpe.js';
import { readMulti30k } from '../src/data/corpora.js';
import { saveModelDir } from '../src/io/model-dir.js';
import { makeConfig } from '../src/models/config.js';
import { Transformer } from '../src/models/transformer.js';
import { decodePng } from './helpers/png.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";

/** Runs `aiayn ...args` from the sources. */
function aiayn(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dir = tempDir('aiayn-attention-');
const model = join(dir, 'model');
const SRC = 'Zwei Hunde spielen im Schnee.';

before(async () => {
  const pairs = (await readMulti30k('train', 'de', 'en')).slice(0, 40);
  const bpe = Bpe.learn(pairs.flatMap((p) => [p.src, p.tgt]), { merges: 150 });
  const config = makeConfig('tiny', { srcVocab: bpe.vocabSize, tgtVocab: bpe.vocabSize, dModel: 32, dFF: 64, h: 2, encoderLayers: 2, decoderLayers: 1, maxLen: 32, seed: 5 });
  mkdirSync(model);
  await saveModelDir(model, new Transformer(config), bpe, { srcLang: 'de', tgtLang: 'en' });
});

test('writes an HTML page and a PNG and says what it wrote', () => {
  const html = join(dir, 'maps.html');
  let r = aiayn(['attention', '--model', model, '--src', SRC, '--tgt', 'Two dogs play in the snow.', '-o', html]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^wrote .*maps\.html: 2 encoder \+ 1 decoder layers x 2 heads \(4 encoder self, 2 decoder self, 2 cross maps\); \d+ source tokens, \d+ target tokens; target: Two dogs play in the snow\.\n$/);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /^<!DOCTYPE html>/);
  assert.ok(page.includes(SRC));

  const png = join(dir, 'maps.png');
  r = aiayn(['attention', '--model', model, '--src', SRC, '--out', png]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^wrote .*maps\.png: 2 encoder \+ 1 decoder layers/);
  assert.deepEqual([...readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

  const one = join(dir, 'one.png');
  r = aiayn(['attention', '--model', model, '--src', 'Ein Mann läuft über die Straße.', '--tgt', 'A man runs.', '--layer', '2', '--head', '1', '-o', one]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /; drawn: layer 2, head 1 only\n$/);
  const picture = decodePng(readFileSync(one));
  const full = decodePng(readFileSync(png));
  assert.ok(picture.width < full.width && picture.height < full.height, 'one encoder panel (layer 2 has no decoder maps) is smaller than all');
});

test('errors: missing --src, unknown extension, missing model directory, unwritable output; --help', () => {
  let r = aiayn(['attention', '--model', model, '-o', join(dir, 'x.html')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /aiayn attention: --src "SENTENCE" is required/);

  const bad = join(dir, 'maps.jpg');
  r = aiayn(['attention', '--model', model, '--src', SRC, '-o', bad]);
  assert.equal(r.code, 2);
  assert.match(r.err, /cannot tell the output format of '.*maps\.jpg': use a \.html or \.png file name/);
  assert.ok(!existsSync(bad));

  r = aiayn(['attention', '--model', model, '--src', SRC, '--head', '3', '-o', join(dir, 'h.png')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--head must be a whole number from 1 to 2 \(the model's heads\), got 3/);

  r = aiayn(['attention', '--model', join(dir, 'nope'), '--src', SRC, '-o', join(dir, 'y.png')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /model directory .*nope does not exist/);

  r = aiayn(['attention', '--model', model, '--src', SRC, '-o', join(dir, 'no-such-dir', 'z.png')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /cannot write .*z\.png: ENOENT/);

  r = aiayn(['attention', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^usage: aiayn attention --model DIR --src/);
});
