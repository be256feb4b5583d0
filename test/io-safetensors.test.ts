// The safetensors reader and writer: round trips, dtype widening checked against bytes written by PyTorch
// (scripts/make-fixtures.py), a clear error for every kind of malformed file, and atomic saves.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadSafetensors, MAX_HEADER_BYTES, readSafetensors, saveSafetensors, writeSafetensors } from '../src/io/index.js';

const FIXTURE = new URL('./fixtures/io/dtypes.safetensors', import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'aiayn-safetensors-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A file from a header (object, or raw JSON text) and data bytes; `declared` overrides the length field. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), declared?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Asserts that reading `bytes` throws an error naming the source and matching `problem`. */
function rejects(bytes: Uint8Array, problem: RegExp): void {
  assert.throws(() => readSafetensors(bytes, 'bad.safetensors'), (err: Error) => {
    assert.match(err.message, /^safetensors: bad\.safetensors: /);
    assert.match(err.message, problem);
    return true;
  });
}

/** Bitwise equality of float arrays (NaN equals NaN, -0 differs from 0). */
function sameFloats(actual: Float32Array | Int32Array, expected: Float32Array | Int32Array): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Object.is(actual[i], expected[i]), `index ${i}: ${actual[i]} vs ${expected[i]}`);
}

test('round trip of F32 and I32 tensors with metadata, specials and empty shapes', () => {
  const f = new Float32Array([0, -0, 1.5, -2.25e-3, Infinity, -Infinity, NaN, 3.4e38, 1e-45, 7]);
  const tensors = {
    'encoder.layers.0.weight': { dtype: 'F32' as const, shape: [2, 5], data: f },
    ids: { dtype: 'I32' as const, shape: [3], data: new Int32Array([-2147483648, 0, 2147483647]) },
    scalar: { dtype: 'F32' as const, shape: [], data: new Float32Array([42]) },
    empty: { dtype: 'F32' as const, shape: [0, 4], data: new Float32Array(0) },
  };
  const bytes = writeSafetensors(tensors, { format: 'pt', step: '12' });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLength % 8, 0, 'data region starts 8-byte aligned');
  const back = readSafetensors(bytes);
  assert.deepEqual([...back.metadata], [['format', 'pt'], ['step', '12']]);
  assert.deepEqual([...back.tensors.keys()], Object.keys(tensors));
  for (const [name, t] of Object.entries(tensors)) {
    const got = back.tensors.get(name)!;
    assert.equal(got.dtype, t.dtype);
    assert.deepEqual(got.shape, t.shape);
    assert.equal(got.data.constructor, t.data.constructor);
    sameFloats(got.data, t.data);
  }
});

test('a file with no tensors and a subarray input with an unaligned data region both read', () => {
  assert.equal(readSafetensors(writeSafetensors({})).tensors.size, 0);
  // Header of odd length: the F32 data starts at an unaligned byte offset; the bytes sit inside a larger buffer.
  const data = new Uint8Array(new Float32Array([1, -2, 3.5]).buffer);
  const file = rawFile('{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}', data);
  const padded = new Uint8Array(file.length + 3);
  padded.set(file, 1);
  const t = readSafetensors(padded.subarray(1, 1 + file.length)).tensors.get('t')!;
  sameFloats(t.data, new Float32Array([1, -2, 3.5]));
});

test('F16, BF16 and I64 written by PyTorch decode to the values PyTorch converts them to', () => {
  const { tensors, metadata } = loadSafetensors(FIXTURE.pathname);
  assert.ok(metadata.get('torch')?.startsWith('1.'));
  for (const [narrow, wide] of [['f16', 'f16_as_f32'], ['bf16', 'bf16_as_f32'], ['i64', 'i64_as_i32']] as const) {
    const a = tensors.get(narrow)!;
    const b = tensors.get(wide)!;
    assert.deepEqual(a.shape, b.shape, narrow);
    assert.equal(a.data.constructor, b.data.constructor, narrow);
    sameFloats(a.data, b.data);
  }
  assert.equal(tensors.get('f16')!.dtype, 'F16');
  const f16 = tensors.get('f16')!.data;
  assert.deepEqual(Array.from(f16.subarray(0, 10)), [0, -0, 1, -2.5, 65504, 2 ** -14, 2 ** -24, -(2 ** -15), Infinity, -Infinity]);
  assert.ok(Number.isNaN(f16[10]));
  assert.deepEqual(Array.from(tensors.get('i64')!.data), [0, 1, -1, 2147483647, -2147483648, 123456789, -7]);
  const empty = tensors.get('empty_f16')!;
  assert.deepEqual(empty.shape, [0, 3]);
  assert.equal(empty.data.length, 0);
});

test('malformed length field and header: truncated, too long, not JSON, not an object', () => {
  rejects(new Uint8Array(5), /5 bytes, too short/);
  const good = writeSafetensors({ w: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
  rejects(good.subarray(0, 30), /header length \d+ exceeds the 22 bytes/);
  rejects(rawFile({}, new Uint8Array(0), 1000n), /header length 1000 exceeds the 2 bytes after the length field/);
  rejects(rawFile({}, new Uint8Array(0), BigInt(MAX_HEADER_BYTES + 1)), /header length 100000001 exceeds the limit of 100000000 bytes/);
  rejects(rawFile({}, new Uint8Array(0), 1n << 63n), /exceeds the limit/);
  rejects(rawFile('{"w": {"dtype": "F32",'), /not valid JSON/);
  rejects(rawFile('[1, 2]'), /must be a JSON object/);
  rejects(rawFile('null'), /must be a JSON object/);
  const badUtf8 = rawFile('{"w": 1}');
  badUtf8[10] = 0xff;
  rejects(badUtf8, /not valid UTF-8/);
});

test('malformed tensor entries: dtype, shape, offsets, byte length, overlaps, metadata', () => {
  const data = new Uint8Array(32);
  const entry = (e: object) => rawFile({ t: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16], ...e } }, data);
  rejects(entry({ dtype: 'F64' }), /tensor 't': unknown or unsupported dtype "F64"/);
  rejects(entry({ dtype: 7 }), /unknown or unsupported dtype 7/);
  rejects(entry({ dtype: 'toString' }), /unknown or unsupported dtype/);
  rejects(entry({ shape: [-2, -2] }), /shape \[-2,-2\] must be an array of non-negative integers/);
  rejects(entry({ shape: [1.5, 2] }), /non-negative integers/);
  rejects(entry({ shape: '2x2' }), /non-negative integers/);
  rejects(entry({ data_offsets: [0, 33] }), /data_offsets \[0, 33\] out of range for the 32-byte data region/);
  rejects(entry({ data_offsets: [16, 8] }), /out of range/);
  rejects(entry({ data_offsets: [0] }), /must be two non-negative integers/);
  rejects(entry({ data_offsets: [-4, 12] }), /must be two non-negative integers/);
  rejects(entry({ data_offsets: undefined }), /must be two non-negative integers/);
  rejects(entry({ data_offsets: [0, 12] }), /needs 16 bytes but data_offsets \[0, 12\] hold 12/);
  rejects(entry({ shape: [1e9, 1e9, 1e9] }), /needs more than the 32-byte data region/);
  rejects(rawFile({ t: [1, 2] }, data), /tensor 't': entry must be an object/);
  rejects(rawFile({
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [3], data_offsets: [4, 16] },
  }, data), /tensors 'a' \[0, 8\) and 'b' \[4, 16\) overlap/);
  const withEmpty = readSafetensors(rawFile({
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    none: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
  }, data));
  assert.deepEqual(withEmpty.tensors.get('none')!.shape, [0], 'an empty range overlaps nothing');
  rejects(rawFile({ __metadata__: { step: 3 } }), /__metadata__ entry 'step' must be a string/);
  rejects(rawFile({ __metadata__: ['x'] }), /__metadata__ must be an object of strings/);
  // A cut in the data region leaves offsets pointing past the end.
  const good = writeSafetensors({ w: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
  rejects(good.subarray(0, good.length - 1), /out of range for the 15-byte data region/);
});

test('I64 values outside int32 are rejected with the tensor name and index', () => {
  const data = new Uint8Array(16);
  const view = new DataView(data.buffer);
  view.setBigInt64(0, -5n, true);
  view.setBigInt64(8, 2n ** 31n, true);
  rejects(rawFile({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data), /'ids': I64 value 2147483648 at index 1 does not fit in int32/);
  view.setBigInt64(8, -(2n ** 40n), true);
  rejects(rawFile({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data), /-1099511627776 at index 1/);
});

test('loadSafetensors names the file in its errors', () => {
  const path = join(work, 'broken.safetensors');
  writeFileSync(path, rawFile('{"t": oops}'));
  assert.throws(() => loadSafetensors(path), (err: Error) => err.message.startsWith(`safetensors: ${path}: header is not valid JSON`));
  const missing = join(work, 'missing.safetensors');
  assert.throws(() => loadSafetensors(missing), (err: Error) => err.message.startsWith(`safetensors: ${missing}: cannot read: ENOENT`));
});

test('the writer rejects inconsistent tensors', () => {
  assert.throws(() => writeSafetensors({ w: { dtype: 'F32', shape: [2, 3], data: new Float32Array(5) } }), /'w': shape \[2, 3\] holds 6 values, data has 5/);
  assert.throws(() => writeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Int32Array(2) } }), /'w': dtype F32 needs a Float32Array/);
  assert.throws(() => writeSafetensors({ w: { dtype: 'I32', shape: [-2], data: new Int32Array(2) } }), /invalid shape/);
  assert.throws(() => writeSafetensors({ __metadata__: { dtype: 'F32', shape: [0], data: new Float32Array(0) } }), /reserved/);
});

test('saveSafetensors writes atomically: a failed save leaves the old file and no temporary behind', () => {
  const dir = join(work, 'atomic');
  mkdirSync(dir);
  const path = join(dir, 'model.safetensors');
  const v1 = { w: { dtype: 'F32' as const, shape: [3], data: new Float32Array([1, 2, 3]) } };
  saveSafetensors(path, v1, { step: '1' });
  const before = readFileSync(path);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  sameFloats(loadSafetensors(path).tensors.get('w')!.data, v1.w.data);

  // Fails before anything is written (invalid tensor): the old file is untouched.
  assert.throws(() => saveSafetensors(path, { w: { dtype: 'F32', shape: [4], data: new Float32Array(3) } }));
  assert.deepEqual(readFileSync(path), before);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);

  // Fails after the temporary was written and fsynced (the rename target is a non-empty directory).
  const blocked = join(dir, 'blocked');
  mkdirSync(blocked);
  writeFileSync(join(blocked, 'keep'), 'x');
  assert.throws(() => saveSafetensors(blocked, v1), /^Error: safetensors: .*blocked: write failed: /);
  assert.deepEqual(readdirSync(dir).sort(), ['blocked', 'model.safetensors']);
  assert.deepEqual(readdirSync(blocked), ['keep']);

  // Fails to create the temporary (missing directory).
  assert.throws(() => saveSafetensors(join(dir, 'missing', 'x.safetensors'), v1), /write failed: ENOENT/);

  // A successful save replaces the file whole.
  saveSafetensors(path, { w: { dtype: 'F32', shape: [2], data: new Float32Array([9, 8]) } });
  sameFloats(loadSafetensors(path).tensors.get('w')!.data, new Float32Array([9, 8]));
  assert.deepEqual(readdirSync(dir).sort(), ['blocked', 'model.safetensors']);
});
