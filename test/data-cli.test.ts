// `aiayn bpe` tests: learn, encode and decode through run(), round trips, GPT-2, and failures that write nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../src/cli/bpe.js';
import { CliError } from '../src/cli/args.js';
import { Bpe, Gpt2Tokenizer, multi30kPath } from '../src/data/index.js';
import { tempDir } from './helpers/temp.js';

const SENTENCES = 'Zwei Männer spielen Fußball.\n\tA dog  runs 🐕‍🦺 fast\n\n数字 123 e\u0301\n';

/** Runs the command with console output silenced, resolving to its exit code. */
async function quiet(argv: string[]): Promise<number> {
  const { log, error } = console;
  console.log = console.error = () => undefined;
  try { return await run(argv); } finally { Object.assign(console, { log, error }); }
}

test('learn, encode --ids and decode round-trip every line', async () => {
  const dir = tempDir('aiayn-cli-');
  const model = join(dir, 'bpe.json'), input = join(dir, 'in.txt'), ids = join(dir, 'ids.txt'), back = join(dir, 'back.txt');
  await writeFile(input, SENTENCES);
  assert.equal(await quiet(['learn', '-i', multi30kPath('val', 'de'), multi30kPath('val', 'en'), '--vocab-size', '1200', '-o', model]), 0);
  assert.equal((await Bpe.load(model)).vocabSize, 1200);
  assert.equal(await quiet(['encode', '-m', model, '--ids', '-i', input, '-o', ids]), 0);
  const idLines = (await readFile(ids, 'utf8')).split('\n');
  assert.equal(idLines.length, SENTENCES.split('\n').length);
  assert.ok(idLines[0]!.split(' ').every((f) => /^\d+$/.test(f)));
  assert.equal(await quiet(['decode', '-m', model, '-i', ids, '-o', back]), 0);
  assert.equal(await readFile(back, 'utf8'), SENTENCES);
  const pieces = join(dir, 'pieces.txt');
  assert.equal(await quiet(['encode', '-m', model, '-i', input, '-o', pieces]), 0);
  assert.match((await readFile(pieces, 'utf8')).split('\n')[0]!, /^Zwei▁ .*\.$/);
});

test('--gpt2 encodes with the bundled GPT-2 ranks', async () => {
  const dir = tempDir('aiayn-cli-');
  const input = join(dir, 'in.txt'), ids = join(dir, 'ids.txt'), back = join(dir, 'back.txt');
  await writeFile(input, SENTENCES);
  assert.equal(await quiet(['encode', '--gpt2', '--ids', '-i', input, '-o', ids]), 0);
  const gpt2 = await Gpt2Tokenizer.bundled();
  assert.equal((await readFile(ids, 'utf8')).split('\n')[0], gpt2.encode('Zwei Männer spielen Fußball.').join(' '));
  assert.equal(await quiet(['decode', '--gpt2', '-i', ids, '-o', back]), 0);
  assert.equal(await readFile(back, 'utf8'), SENTENCES);
});

test('bad input fails with file and line and leaves no output file', async () => {
  const dir = tempDir('aiayn-cli-');
  const bad = join(dir, 'bad.txt'), model = join(dir, 'bpe.json'), out = join(dir, 'out.txt');
  await writeFile(bad, Buffer.concat([Buffer.from('fine\n'), Buffer.from([0xff, 0x0a])]));
  const errors: string[] = [];
  const { error } = console;
  console.error = (msg: string) => { errors.push(msg); };
  try {
    assert.equal(await run(['learn', '-i', bad, '-o', model]), 1);
    assert.equal(await run(['encode', '--gpt2', '-i', bad, '-o', out]), 1);
    await writeFile(model, '{"format": "aiayn-bpe", "version": 99}');
    assert.equal(await run(['encode', '-m', model, '-i', bad, '-o', out]), 1);
    await writeFile(join(dir, 'ids.txt'), '1 2 x\n');
    assert.equal(await run(['decode', '--gpt2', '-i', join(dir, 'ids.txt'), '-o', out]), 1);
  } finally { console.error = error; }
  assert.deepEqual(errors, [
    `aiayn bpe: ${bad}:2: invalid UTF-8`,
    `aiayn bpe: ${bad}:2: invalid UTF-8`,
    `aiayn bpe: ${model}: tokenizer format version 99 is not supported (this build reads version 1)`,
    `aiayn bpe: ${join(dir, 'ids.txt')}:1: 'x' is not a token id`,
  ]);
  assert.deepEqual((await readdir(dir)).sort(), ['bad.txt', 'bpe.json', 'ids.txt']);
});

test('usage errors are CliErrors', async () => {
  await assert.rejects(quiet(['encode', '-i', 'x']), CliError);
  await assert.rejects(quiet(['learn', '-o', 'x.json']), CliError);
  await assert.rejects(quiet(['frobnicate']), CliError);
  assert.equal(await quiet(['--help']), 0);
});
