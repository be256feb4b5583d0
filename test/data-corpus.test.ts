// Corpus tests: line readers (plain, gzip, strict UTF-8), parallel files, bundled Multi30k, splits, atomic writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  DataError, MULTI30K_SPLITS, readAllLines, readMulti30k, readParallel, readText, splitTextTrainVal, splitTrainVal, writeFileAtomic,
} from '../src/data/index.js';
import { tempDir } from './helpers/temp.js';

const dir = tempDir('aiayn-corpus-');

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(await dir, name);
  await writeFile(path, content);
  return path;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

test('reads plain and gzip files the same: CRLF stripped, BOM kept, last line without newline', async () => {
  const text = '\ufeffeins\r\nzwei  \n\ndrei 🎉';
  const plain = await file('plain.txt', text);
  const gz = await file('plain.txt.gz', gzipSync(Buffer.from(text)));
  const expected = ['\ufeffeins', 'zwei  ', '', 'drei 🎉'];
  assert.deepEqual(await readAllLines(plain), expected);
  assert.deepEqual(await readAllLines(gz), expected);
  assert.equal(await readText(gz), text);
});

test('invalid UTF-8 fails with the file and line', async () => {
  const bad = Buffer.concat([Buffer.from('ok\nfine\nbad '), Buffer.from([0xc3, 0x28]), Buffer.from('\nmore\n')]);
  const path = await file('bad.txt', bad);
  await assert.rejects(readAllLines(path), (e: Error) => e instanceof DataError && e.message === `${path}:3: invalid UTF-8`);
  await assert.rejects(readText(path), (e: Error) => e instanceof DataError && e.message === `${path}:3: invalid UTF-8`);
  const gz = await file('bad.txt.gz', gzipSync(bad));
  await assert.rejects(readAllLines(gz), new RegExp(`${gz}:3: invalid UTF-8`));
});

test('missing, unreadable, empty and corrupt gzip files fail with the file name', async () => {
  const missing = join(await dir, 'missing.txt');
  await assert.rejects(readAllLines(missing), new RegExp(`${missing}: cannot read: no such file`));
  await assert.rejects(readText(missing), /cannot read: no such file/);
  const empty = await file('empty.txt', '');
  await assert.rejects(readAllLines(empty), new RegExp(`${empty}: file is empty`));
  await assert.rejects(readText(empty), /file is empty/);
  const corrupt = await file('corrupt.gz', Buffer.from([0x1f, 0x8b, 1, 2, 3, 4]));
  await assert.rejects(readAllLines(corrupt), (e: Error) => e instanceof DataError && e.message.startsWith(corrupt));
  await assert.rejects(readAllLines(await dir), /cannot read: is a directory/);
  if (process.getuid?.() !== 0) {
    const locked = await file('locked.txt', 'x\n');
    await chmod(locked, 0);
    await assert.rejects(readAllLines(locked), /permission denied/);
  }
});

test('parallel files stream aligned pairs and fail when their line counts differ', async () => {
  const src = await file('p.en', 'a\nb\nc\n'), tgt = await file('p.de', 'A\nB\nC\n'), short = await file('s.de', 'A\nB\n');
  assert.deepEqual(await collect(readParallel(src, tgt)), [{ src: 'a', tgt: 'A' }, { src: 'b', tgt: 'B' }, { src: 'c', tgt: 'C' }]);
  await assert.rejects(collect(readParallel(src, short)),
    (e: Error) => e instanceof DataError && e.message === `${src}:3: parallel files differ in length: ${short} has 2 lines, ${src} has more`);
});

test('bundled Multi30k: every split is aligned; val has 1,014 pairs', async () => {
  const val = await readMulti30k('val');
  assert.equal(val.length, 1014);
  assert.equal(val[0]!.src, 'A group of men are loading cotton onto a truck');
  assert.equal(val[0]!.tgt, 'Eine Gruppe von Männern lädt Baumwolle auf einen Lastwagen');
  const sizes = await Promise.all(MULTI30K_SPLITS.map(async (s) => (await readMulti30k(s, 'de', 'en')).length));
  assert.deepEqual(sizes, [29000, 1014, 1000, 1000, 461, 1071]);
});

test('train/val splits are deterministic, disjoint and keep order', () => {
  const items = Array.from({ length: 1000 }, (_, i) => i);
  const a = splitTrainVal(items, { valFraction: 0.1, seed: 7 });
  assert.deepEqual(splitTrainVal(items, { valFraction: 0.1, seed: 7 }), a);
  assert.equal(a.val.length, 100);
  assert.equal(a.train.length, 900);
  assert.deepEqual([...a.train, ...a.val].sort((x, y) => x - y), items);
  assert.deepEqual(a.val, [...a.val].sort((x, y) => x - y));
  assert.notDeepEqual(splitTrainVal(items, { valFraction: 0.1, seed: 8 }).val, a.val);
  assert.equal(splitTrainVal(items, { valSize: 3 }).val.length, 3);
  assert.throws(() => splitTrainVal(items, { valSize: 1001 }), RangeError);
  assert.deepEqual(splitTextTrainVal('abcdefghij', 0.2), { train: 'abcdefgh', val: 'ij' });
  assert.deepEqual(splitTextTrainVal('ab😀', 0.25), { train: 'ab😀', val: '' }, 'a surrogate pair stays whole');
});

test('atomic writes leave only the finished file', async () => {
  const sub = await mkdtemp(join(await dir, 'atomic-'));
  await writeFileAtomic(join(sub, 'out.txt'), 'done\n');
  assert.deepEqual(await readdir(sub), ['out.txt']);
  await assert.rejects(writeFileAtomic(join(sub, 'no-such-dir', 'out.txt'), 'x'));
  assert.deepEqual(await readdir(sub), ['out.txt']);
});
