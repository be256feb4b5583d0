// Checkpoints: model weights, optimizer moments and the loop's position (step, epoch, batch, RNG state) in one
// safetensors file, written atomically, so a killed run resumes bit-exactly where it stopped. Averaging the
// weights of the last checkpoints is the paper's §6.1 recipe.

import { loadSafetensors, saveSafetensors, type SafetensorsInput } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import type { Adam, AdamState } from './optim.js';

/** Where the training loop stands. */
export interface LoopState {
  step: number;
  epoch: number;
  /** Batches of `epoch` already consumed. */
  batchInEpoch: number;
  /** The model's dropout generator state. */
  rng: number[];
  tokens: number;
  /** Seconds of training before this checkpoint (for ETA and logs across resumes). */
  seconds: number;
}

const MODEL = 'model.';
const OPTIM = 'optim.';

/** Writes model, optimizer and loop state atomically to `path` (copied to the host first). */
export async function saveCheckpoint(path: string, model: Module, optimizer: Adam, loop: LoopState): Promise<void> {
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [name, t] of model.stateDict()) tensors[MODEL + name] = { dtype: 'F32', shape: [...t.shape], data: (await t.data()) as Float32Array };
  const opt = await optimizer.exportState();
  const steps: Array<number | null> = [];
  opt.params.forEach((s, i) => {
    steps.push(s === null ? null : s.step);
    if (s === null) return;
    tensors[`${OPTIM}${i}.m`] = { dtype: 'F32', shape: [s.m.length], data: s.m };
    tensors[`${OPTIM}${i}.v`] = { dtype: 'F32', shape: [s.v.length], data: s.v };
  });
  saveSafetensors(path, tensors, { format: 'aiayn-checkpoint', loop: JSON.stringify(loop), optimizer: JSON.stringify({ steps: opt.steps, paramSteps: steps }) });
}

/** Model weights of a checkpoint (by our parameter names), without optimizer state. */
export function checkpointWeights(path: string): Map<string, { shape: number[]; data: Float32Array }> {
  const { tensors, metadata } = loadSafetensors(path);
  if (metadata.get('format') !== 'aiayn-checkpoint') throw new Error(`${path}: not an aiayn checkpoint (no format "aiayn-checkpoint" in its metadata)`);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of tensors) if (name.startsWith(MODEL)) out.set(name.slice(MODEL.length), { shape: t.shape, data: t.data as Float32Array });
  return out;
}

/** Restores model and optimizer from a checkpoint and returns the loop state. */
export function loadCheckpoint(path: string, model: Module, optimizer: Adam): LoopState {
  const { tensors, metadata } = loadSafetensors(path);
  if (metadata.get('format') !== 'aiayn-checkpoint') throw new Error(`${path}: not an aiayn checkpoint`);
  model.loadStateDict(checkpointWeights(path), { strict: true });
  const meta = JSON.parse(metadata.get('optimizer') ?? 'null') as { steps: number; paramSteps: Array<number | null> } | null;
  if (meta === null) throw new Error(`${path}: checkpoint has no optimizer state`);
  const state: AdamState = {
    steps: meta.steps,
    params: meta.paramSteps.map((step, i) => {
      if (step === null) return null;
      const m = tensors.get(`${OPTIM}${i}.m`);
      const v = tensors.get(`${OPTIM}${i}.v`);
      if (m === undefined || v === undefined) throw new Error(`${path}: optimizer moments of parameter ${i} are missing`);
      return { step, m: m.data as Float32Array, v: v.data as Float32Array };
    }),
  };
  optimizer.importState(state);
  const loop = JSON.parse(metadata.get('loop') ?? 'null') as LoopState | null;
  if (loop === null) throw new Error(`${path}: checkpoint has no loop state`);
  return loop;
}

/** The elementwise mean of the model weights of several checkpoints (§6.1), checked for equal names and shapes. */
export function averageCheckpoints(paths: readonly string[]): Map<string, { shape: number[]; data: Float32Array }> {
  if (paths.length === 0) throw new Error('average: no checkpoints given');
  const first = checkpointWeights(paths[0]!);
  const sum = new Map([...first].map(([name, t]) => [name, { shape: t.shape, data: Float64Array.from(t.data) }]));
  for (const path of paths.slice(1)) {
    const w = checkpointWeights(path);
    if (w.size !== sum.size) throw new Error(`average: ${path} has ${w.size} tensors, ${paths[0]} has ${sum.size}`);
    for (const [name, t] of w) {
      const acc = sum.get(name);
      if (acc === undefined) throw new Error(`average: ${path} has ${name}, which ${paths[0]} lacks`);
      if (acc.shape.join() !== t.shape.join()) throw new Error(`average: ${name} is [${t.shape}] in ${path} but [${acc.shape}] in ${paths[0]}`);
      for (let i = 0; i < t.data.length; i++) acc.data[i]! += t.data[i]!;
    }
  }
  return new Map([...sum].map(([name, t]) => [name, { shape: t.shape, data: Float32Array.from(t.data, (x) => x / paths.length) }]));
}
