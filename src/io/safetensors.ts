// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON header
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}), then the raw little-endian
// tensor bytes, offsets relative to the end of the header. Used for checkpoints and for PyTorch reference data.
// The reader trusts nothing in the header: every length, shape and offset is checked before any allocation.

import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../data/files.js';
import { showValue } from '../data/show.js';

/** Element types the reader understands (F16/BF16 are widened to float32, I64 narrowed to int32). */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';

/** One tensor as read: its stored dtype, its shape and its values (float32 or int32). */
export interface SafetensorsTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: number[];
  readonly data: Float32Array | Int32Array;
}

/** A parsed file: tensors by name (header order, but integer-like names first, as JavaScript objects list them) and the string metadata. */
export interface SafetensorsContents {
  readonly tensors: Map<string, SafetensorsTensor>;
  readonly metadata: Map<string, string>;
}

/** One tensor to write. */
export interface SafetensorsInput {
  readonly dtype: 'F32' | 'I32';
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/** The largest header accepted (the limit the reference implementation uses). */
export const MAX_HEADER_BYTES = 100_000_000;

const ITEM_SIZE: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Header entry after validation. */
interface Entry { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number; }

/** Parses safetensors bytes; `source` (a path) names the file in error messages. */
export function readSafetensors(bytes: Uint8Array, source = '<bytes>'): SafetensorsContents {
  const fail = (problem: string): never => { throw new Error(`safetensors: ${source}: ${problem}`); };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) fail(`header length ${declared} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  if (declared > BigInt(bytes.length - 8)) fail(`header length ${declared} exceeds the ${bytes.length - 8} bytes after the length field (truncated file?)`);
  const headerLength = Number(declared);
  const dataStart = 8 + headerLength;
  const header = parseHeader(bytes.subarray(8, dataStart), fail);
  const dataLength = bytes.length - dataStart;
  const metadata = new Map<string, string>();
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') readMetadata(value, metadata, fail);
    else entries.push(checkEntry(name, value, dataLength, fail));
  }
  const byStart = entries.filter((e) => e.end > e.begin).sort((p, q) => p.begin - q.begin);
  for (let i = 1; i < byStart.length; i++) {
    const prev = byStart[i - 1]!;
    const cur = byStart[i]!;
    if (cur.begin < prev.end) fail(`tensors '${prev.name}' [${prev.begin}, ${prev.end}) and '${cur.name}' [${cur.begin}, ${cur.end}) overlap`);
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const raw = bytes.subarray(dataStart + e.begin, dataStart + e.end);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decode(e, raw, fail) });
  }
  return { tensors, metadata };
}

/** Reads and parses a safetensors file. */
export function loadSafetensors(path: string): SafetensorsContents {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`safetensors: ${path}: cannot read: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return readSafetensors(bytes, path);
}

/** Serialises tensors (header padded with spaces so the data starts 8-byte aligned). */
export function writeSafetensors(tensors: Readonly<Record<string, SafetensorsInput>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`writeSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
    }
    header['__metadata__'] = metadata;
  }
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '__metadata__') throw new Error("writeSafetensors: '__metadata__' is reserved and cannot name a tensor");
    checkInput(name, t);
    const raw = littleEndianBytes(t.data);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + raw.length] };
    parts.push(raw);
    offset += raw.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * Writes a safetensors file atomically: a temporary file in the same directory is written, fsynced and
 * renamed over `path`, so a reader sees the old file or the complete new one, never a partial file.
 */
export function saveSafetensors(path: string, tensors: Readonly<Record<string, SafetensorsInput>>, metadata?: Readonly<Record<string, string>>): void {
  const bytes = writeSafetensors(tensors, metadata);
  try {
    writeFileAtomicSync(path, bytes);
  } catch (err) {
    throw new Error(`safetensors: ${path}: write failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Decodes the header bytes as a JSON object. */
function parseHeader(raw: Uint8Array, fail: (problem: string) => never): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return fail('header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail(`header is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('header must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** Copies `__metadata__` (an object of strings) into `out`. */
function readMetadata(value: unknown, out: Map<string, string>, fail: (problem: string) => never): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('__metadata__ must be an object of strings');
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`__metadata__ entry '${k}' must be a string, got ${showValue(v)}`);
    out.set(k, v as string);
  }
}

/** Validates one tensor's header entry against the data region. */
function checkEntry(name: string, value: unknown, dataLength: number, fail: (problem: string) => never): Entry {
  const bad = (problem: string): never => fail(`tensor '${name}': ${problem}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('entry must be an object with dtype, shape and data_offsets');
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(ITEM_SIZE, dtype)) {
    bad(`unknown or unsupported dtype ${showValue(dtype)} (supported: ${Object.keys(ITEM_SIZE).join(', ')})`);
  }
  const itemSize = ITEM_SIZE[dtype as SafetensorsDType];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    bad(`shape ${showValue(shape)} must be an array of non-negative integers`);
  }
  const dims = shape as number[];
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    bad(`data_offsets ${showValue(offsets)} must be two non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength) bad(`data_offsets [${begin}, ${end}] out of range for the ${dataLength}-byte data region`);
  let bytes = dims.includes(0) ? 0 : itemSize;
  for (const d of dims) {
    bytes *= d;
    if (bytes > dataLength) bad(`shape [${dims.join(', ')}] of ${dtype} needs more than the ${dataLength}-byte data region`);
  }
  if (bytes !== end - begin) bad(`shape [${dims.join(', ')}] of ${dtype} needs ${bytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  return { name, dtype: dtype as SafetensorsDType, shape: [...dims], begin, end };
}

/** Converts one tensor's little-endian bytes to float32 or int32 values. */
function decode(e: Entry, raw: Uint8Array, fail: (problem: string) => never): Float32Array | Int32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = raw.length / ITEM_SIZE[e.dtype];
  // new Uint8Array(raw) copies to a fresh aligned buffer (a Node Buffer's slice() would be a view).
  switch (e.dtype) {
    case 'F32': return LITTLE_ENDIAN_HOST ? new Float32Array(new Uint8Array(raw).buffer) : Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
    case 'I32': return LITTLE_ENDIAN_HOST ? new Int32Array(new Uint8Array(raw).buffer) : Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    case 'BF16': {
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = view.getUint32(8 * i, true);
        const hi = view.getInt32(8 * i + 4, true);
        if (hi !== (lo >= 0x80000000 ? -1 : 0)) {
          fail(`tensor '${e.name}': I64 value ${view.getBigInt64(8 * i, true)} at index ${i} does not fit in int32`);
        }
        out[i] = lo | 0;
      }
      return out;
    }
  }
}

/** IEEE 754 binary16 bits to a number (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Checks a tensor to write: dtype matches the array type, shape is valid and holds exactly the values. */
function checkInput(name: string, t: SafetensorsInput): void {
  const expected = t.dtype === 'F32' ? Float32Array : t.dtype === 'I32' ? Int32Array : undefined;
  if (expected === undefined) throw new Error(`writeSafetensors: tensor '${name}': dtype ${String(t.dtype)} is not F32 or I32`);
  if (!(t.data instanceof expected)) throw new Error(`writeSafetensors: tensor '${name}': dtype ${t.dtype} needs a ${expected.name}`);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`writeSafetensors: tensor '${name}': invalid shape [${t.shape.join(', ')}]`);
  const size = t.shape.reduce((p, q) => p * q, 1);
  if (size !== t.data.length) throw new Error(`writeSafetensors: tensor '${name}': shape [${t.shape.join(', ')}] holds ${size} values, data has ${t.data.length}`);
}

/** The little-endian bytes of a float32 or int32 array. */
function littleEndianBytes(data: Float32Array | Int32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(4 * i, data[i]!, true);
    else view.setInt32(4 * i, data[i]!, true);
  }
  return out;
}
