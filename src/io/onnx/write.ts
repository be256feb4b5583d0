// What every ONNX export shares: the output directory (refused when it holds files, unless forced), host copies of
// the model's weights for the graph builders, and writing the graphs (each file atomically).

import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../data/files.js';
import type { Module } from '../../nn/module.js';
import type { HostWeights } from './blocks.js';
import type { GraphBuilder, ValueSpec } from './graph.js';

/** One written graph as config.json lists it: its file, inputs and outputs (symbolic dimensions are dynamic axes). */
export interface GraphFile { file: string; inputs: ValueSpec[]; outputs: ValueSpec[]; }

/** Host copies of every parameter and buffer (the sinusoidal table `positional_encoding.pe` included), by name. */
export async function hostWeights(model: Module): Promise<HostWeights> {
  const out = new Map<string, { data: Float32Array; shape: readonly number[] }>();
  for (const [name, t] of model.stateDict()) out.set(name, { data: (await t.data()) as Float32Array, shape: t.shape });
  for (const [name, t] of model.namedBuffers()) out.set(name, { data: (await t.data()) as Float32Array, shape: t.shape });
  return out;
}

/** Refuses an existing non-empty output directory unless force; creates it. */
export function prepareOutDir(outDir: string, force: boolean): void {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw new Error(`output ${outDir} exists and is not a directory`);
    if (readdirSync(outDir).length > 0 && !force) throw new Error(`output directory ${outDir} exists and is not empty (give --force to write into it)`);
  }
  mkdirSync(outDir, { recursive: true });
}

/** Writes each builder's graph to `outDir/files[role]` (atomically) with `describe(role)` as its doc string; returns the graphs by role. */
export async function writeGraphs<R extends string>(outDir: string, files: Record<R, string>, builders: Record<R, GraphBuilder>, describe: (role: R) => string): Promise<Record<R, GraphFile>> {
  const graphs = {} as Record<R, GraphFile>;
  for (const role of Object.keys(files) as R[]) {
    const b = builders[role];
    await writeFileAtomic(join(outDir, files[role]), b.encode(describe(role)));
    graphs[role] = { file: files[role], inputs: b.inputs, outputs: b.outputs };
  }
  return graphs;
}
