// What the sections of bench/webgpu.ts share: the context they get, the rows they return, and a timer that
// repeats work on a backend until it has run long enough, waiting for the device before it reads the clock.

import type { Backend } from '../../src/backend/index.js';
import type { WebGPUBackend } from '../../src/backend/webgpu/index.js';

/** One table row: column name to value (null: not measured). */
export type Row = Record<string, string | number | null>;

/** What every section gets. */
export interface Context {
  gpu: WebGPUBackend;
  native: Backend | null;
  nativeError: string;
  /** Reduced sizes (--quick, or a software adapter): a smoke run, not a measurement of the full workload. */
  quick: boolean;
  /** The adapter's fp32 peak in TFLOP/s, when known. */
  peakTflops: number | null;
}

/** One benchmark section: its title and the rows it measured. */
export interface Section { title: string; run(ctx: Context): Promise<Row[]> }

/** Three significant digits. */
export function round(x: number): number {
  return Number(x.toPrecision(3));
}

/** Waits until `backend` has done everything recorded so far (device backends); host backends are synchronous. */
export async function finish(backend: Backend): Promise<void> {
  if ('finish' in backend) await (backend as WebGPUBackend).finish();
}

/** How long to repeat: warm-up calls, then at least `minCalls` calls and `minSeconds`, timed calls capped at `maxCalls`. */
export interface Repeat { warmup: number; minCalls: number; minSeconds: number; maxCalls: number }

/**
 * Runs `work` (which may queue device work) `warmup` times, then repeatedly until `r` is met, calling finish()
 * before every clock read; returns the timed calls and their milliseconds.
 */
export async function timed(backend: Backend, r: Repeat, work: () => Promise<void> | void): Promise<{ calls: number; ms: number }> {
  for (let i = 0; i < r.warmup; i++) await work();
  await finish(backend);
  const t0 = performance.now();
  let calls = 0;
  let ms = 0;
  do {
    await work();
    calls++;
    await finish(backend);
    ms = performance.now() - t0;
  } while (calls < r.maxCalls && (calls < r.minCalls || ms < r.minSeconds * 1000));
  return { calls, ms };
}

/** The error's message, one line. */
export function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
