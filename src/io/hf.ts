// Hugging Face checkpoint directories (the layout `save_pretrained` writes): config.json with the model's
// hyper-parameters under HF's keys, model.safetensors with the weights under HF's module names. Shared by the GPT-2
// (hf-gpt2.ts) and BERT mappings: reading config keys with errors that name key and file, looking tensors up with
// expected shapes (every missing or mis-shaped tensor listed in one error), and writing a directory atomically.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../data/files.js';
import { showValue } from '../data/show.js';
import { fmt } from '../tensor/layout.js';
import { loadSafetensors, saveSafetensors, type SafetensorsInput, type SafetensorsTensor } from './safetensors.js';
import { checkFiniteWeights, type NonfiniteOptions } from './validate.js';

/** A parsed config.json and the path it came from (for messages). */
export interface HfConfig { readonly values: Readonly<Record<string, unknown>>; readonly source: string; }

/** Whether dir looks like a Hugging Face checkpoint (config.json and model.safetensors, no aiayn format tag). */
export function isHfDir(dir: string): boolean {
  const path = join(dir, 'config.json');
  if (!existsSync(path) || !existsSync(join(dir, 'model.safetensors'))) return false;
  try { return (JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown }).format !== 'aiayn-model'; } catch { return false; }
}

/** Reads dir/config.json as a JSON object; errors name the file. */
export function readHfConfig(dir: string): HfConfig {
  const source = join(dir, 'config.json');
  let text: string;
  try { text = readFileSync(source, 'utf8'); } catch (err) { throw new Error(`${source}: cannot read: ${(err as Error).message}`); }
  let values: unknown;
  try { values = JSON.parse(text); } catch (err) { throw new Error(`${source}: malformed JSON: ${(err as Error).message}`); }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new Error(`${source}: expected a JSON object`);
  return { values: values as Record<string, unknown>, source };
}

/** A positive integer under `key` (or `fallback` when absent); the error names the key and the file. */
export function configInt(c: HfConfig, key: string, fallback?: number): number {
  const v = c.values[key] ?? fallback;
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`${c.source}: '${key}' must be a positive integer, got ${showValue(c.values[key])}`);
  return v as number;
}

/** A finite number under `key` (or `fallback` when absent or null). */
export function configNumber(c: HfConfig, key: string, fallback?: number): number {
  const v = c.values[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${c.source}: '${key}' must be a number, got ${showValue(c.values[key])}`);
  return v;
}

/** One of `allowed` under `key` (or `fallback` when absent); the error lists the allowed values. */
export function configChoice<T extends string>(c: HfConfig, key: string, allowed: readonly T[], fallback?: T): T {
  const v = c.values[key] ?? fallback;
  if (!allowed.includes(v as T)) throw new Error(`${c.source}: '${key}' must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${showValue(c.values[key])}`);
  return v as T;
}

/** A boolean under `key` (or `fallback` when absent). */
export function configBool(c: HfConfig, key: string, fallback: boolean): boolean {
  const v = c.values[key] ?? fallback;
  if (typeof v !== 'boolean') throw new Error(`${c.source}: '${key}' must be true or false, got ${showValue(c.values[key])}`);
  return v;
}

/** dir/model.safetensors, its names with `prefix` stripped where they carry it (e.g. `transformer.`, `bert.`). */
export function readHfWeights(dir: string, prefix: string, options: NonfiniteOptions = {}): HfTensors {
  const source = join(dir, 'model.safetensors');
  if (!existsSync(source)) {
    const bin = existsSync(join(dir, 'pytorch_model.bin')) ? ' (pytorch_model.bin is not read: convert it to safetensors)' : '';
    throw new Error(`${dir}: no model.safetensors${bin}`);
  }
  const { tensors } = loadSafetensors(source);
  checkFiniteWeights(tensors, source, options);
  const stripped = new Map<string, SafetensorsTensor>();
  for (const [name, t] of tensors) stripped.set(name.startsWith(prefix) ? name.slice(prefix.length) : name, t);
  return new HfTensors(stripped, source);
}

/** (rows, cols) row-major -> (cols, rows): Conv1D's (in, out) <-> Linear's (out, in). */
export function transposed(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** Checked lookups in a checkpoint's tensors: each problem is recorded, and `finish` throws them all at once. */
export class HfTensors {
  private readonly used = new Set<string>();
  private readonly problems: string[] = [];

  constructor(readonly tensors: ReadonlyMap<string, SafetensorsTensor>, readonly source: string) {}

  /** Whether the checkpoint has `name`. */
  has(name: string): boolean { return this.tensors.has(name); }

  /** The values of `name`, which must have `shape` (what the config implies); null, recorded, when missing or mis-shaped. */
  take(name: string, shape: readonly number[]): Float32Array | null {
    const t = this.tensors.get(name);
    this.used.add(name);
    if (t === undefined) { this.problems.push(`missing tensor '${name}' ${fmt(shape)}`); return null; }
    if (t.shape.join() !== shape.join()) {
      this.problems.push(`tensor '${name}' has shape ${fmt(t.shape)}, the config implies ${fmt(shape)}`);
      return null;
    }
    if (!(t.data instanceof Float32Array)) { this.problems.push(`tensor '${name}' is ${t.dtype}, expected a float type`); return null; }
    return t.data;
  }

  /** Marks names as read without using them (e.g. buffers the model recomputes). */
  ignore(pattern: RegExp): void { for (const name of this.tensors.keys()) if (pattern.test(name)) this.used.add(name); }

  /** Throws one error listing every missing, mis-shaped and unexpected tensor. */
  finish(): void {
    const unexpected = [...this.tensors.keys()].filter((n) => !this.used.has(n)).map((n) => `unexpected tensor '${n}'`);
    const all = [...this.problems, ...unexpected];
    if (all.length > 0) throw new Error(`${this.source}: ${all.length} problem(s) with the weights: ${all.join('; ')}`);
  }
}

/** Writes a checkpoint directory: config.json and model.safetensors (metadata format=pt, as HF writes), each atomically. */
export function writeHfDir(dir: string, config: Readonly<Record<string, unknown>>, tensors: Readonly<Record<string, SafetensorsInput>>): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomicSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  saveSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
}
