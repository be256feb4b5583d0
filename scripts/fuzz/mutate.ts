// Mutations for the fuzzer, all drawn from a seeded generator so that a case is reproduced from (seed, index):
// byte-level (bit flips, interesting bytes, splices, deletions, truncations, appended junk) and structure-aware
// edits of JSON (a value anywhere in the tree replaced by a hostile one, a key deleted or added, values swapped).

import { Rng } from '../../src/tensor/random.js';

/** A mutated input and the name of what was done to it. */
export interface Mutant { bytes: Uint8Array; mutation: string; }

const INTERESTING_BYTES = [0x00, 0xff, 0x7f, 0x80, 0xc0, 0xfe, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x39, 0x2d, 0x2e, 0x0a, 0x0d];

/** A uniformly drawn element. */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)]!;
}

/** One byte-level mutation of `bytes` (never in place). */
export function mutateBytes(rng: Rng, bytes: Uint8Array): Mutant {
  const n = bytes.length;
  const at = () => rng.int(n + 1);
  const out = (b: Uint8Array, mutation: string): Mutant => ({ bytes: b, mutation });
  switch (rng.int(7)) {
    case 0: {
      const b = Uint8Array.from(bytes);
      const flips = 1 + rng.int(8);
      for (let i = 0; i < flips && n > 0; i++) b[rng.int(n)]! ^= 1 << rng.int(8);
      return out(b, `flip ${flips} bits`);
    }
    case 1: {
      const b = Uint8Array.from(bytes);
      if (n > 0) b[rng.int(n)] = pick(rng, INTERESTING_BYTES);
      return out(b, 'set an interesting byte');
    }
    case 2: { // splice: a chunk of the file copied to another place
      const from = rng.int(n + 1), len = rng.int(Math.min(64, n - from) + 1), to = at();
      return out(concat(bytes.subarray(0, to), bytes.subarray(from, from + len), bytes.subarray(to)), `splice ${len} bytes`);
    }
    case 3: {
      const from = at(), len = rng.int(Math.min(64, n - from) + 1);
      return out(concat(bytes.subarray(0, from), bytes.subarray(from + len)), `delete ${len} bytes`);
    }
    case 4: {
      const len = rng.int(n + 1);
      return out(bytes.slice(0, len), `truncate to ${len} bytes`);
    }
    case 5: {
      const junk = Uint8Array.from({ length: 1 + rng.int(32) }, () => rng.int(256));
      return out(concat(bytes, junk), `append ${junk.length} random bytes`);
    }
    default: {
      const b = Uint8Array.from(bytes);
      const from = rng.int(n + 1), len = Math.min(rng.int(16), n - from);
      for (let i = 0; i < len; i++) b[from + i] = rng.int(256);
      return out(b, `overwrite ${len} bytes`);
    }
  }
}

/** Hostile JSON values: wrong types, extremes, huge sizes, deep nesting (as raw JSON text). */
const HOSTILE: ReadonlyArray<[string, string]> = [
  ['null', 'null'], ['true', 'true'], ['0', '0'], ['-1', '-1'], ['1.5', '1.5'], ['1e308', '1e308'], ['-1e308', '-1e308'],
  ['2^31', String(2 ** 31)], ['2^32', String(2 ** 32)], ['2^53', String(2 ** 53)], ['1e20', '1e20'], ['empty string', '""'],
  ['long string', JSON.stringify('x'.repeat(5000))], ['"NaN"', '"NaN"'], ['"Infinity"', '"Infinity"'], ['empty array', '[]'],
  ['empty object', '{}'], ['nested arrays', '[[[1]]]'], ['deep nesting', '['.repeat(20000) + ']'.repeat(20000)],
  ['array of 1e5 zeros', `[${new Array(100000).fill(0).join(',')}]`], ['unicode', '"\\ud800\\u0000\\uffff"'], ['"F64"', '"F64"'],
];

/** Paths (keys and indices) to every node of a JSON value, the root included. */
function paths(value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(prefix);
  if (out.length > 5000) return out;
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

/** The node at `path`. */
function at(value: unknown, path: ReadonlyArray<string | number>): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], value);
}

/** Writes JSON with the node at `path` replaced by raw JSON text (so deep nesting need not be built as objects). */
function withRaw(root: unknown, path: ReadonlyArray<string | number>, raw: string): string {
  const marker = '\u0000HOSTILE\u0000';
  const copy = structuredClone(root);
  if (path.length === 0) return raw;
  (at(copy, path.slice(0, -1)) as Record<string | number, unknown>)[path.at(-1)!] = marker;
  return JSON.stringify(copy).replace(JSON.stringify(marker), () => raw);
}

/** One structure-aware mutation of a JSON document (falls back to a byte mutation when it does not parse). */
export function mutateJson(rng: Rng, bytes: Uint8Array): Mutant {
  let root: unknown;
  try { root = JSON.parse(new TextDecoder().decode(bytes)); } catch { return mutateBytes(rng, bytes); }
  const all = paths(root);
  const path = pick(rng, all);
  const name = path.length === 0 ? '(root)' : path.join('.');
  const encode = (text: string, mutation: string): Mutant => ({ bytes: new TextEncoder().encode(text), mutation });
  const node = at(root, path);
  switch (rng.int(5)) {
    case 0: case 1: {
      const [label, raw] = pick(rng, HOSTILE);
      return encode(withRaw(root, path, raw), `${name} = ${label}`);
    }
    case 2: {
      if (path.length === 0) break;
      const copy = structuredClone(root);
      const parent = at(copy, path.slice(0, -1)) as Record<string | number, unknown> | unknown[];
      if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
      else delete parent[path.at(-1)!];
      return encode(JSON.stringify(copy), `delete ${name}`);
    }
    case 3: {
      if (typeof node === 'number') {
        const v = pick(rng, [node + 1, node - 1, node * 1000, -node, node + 0.5]);
        return encode(withRaw(root, path, JSON.stringify(v)), `${name} = ${v}`);
      }
      if (Array.isArray(node) && node.length > 0) return encode(withRaw(root, path, JSON.stringify([...node, ...node])), `${name} doubled`);
      break;
    }
    default: {
      const other = pick(rng, all);
      if (other.length === 0 || path.length === 0) break;
      return encode(withRaw(root, path, JSON.stringify(at(root, other))), `${name} = value of ${other.join('.')}`);
    }
  }
  if (node !== null && typeof node === 'object' && !Array.isArray(node)) return encode(withRaw(root, path, JSON.stringify({ ...node, unknownKey: 1 })), `${name} gains a key`);
  return mutateBytes(rng, bytes);
}

/** The bytes of several arrays, one after the other. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
