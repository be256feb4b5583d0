// Times every kernel call of a backend object (core kernels and fused paths), by name and a shape class, for
// finding where a step's time goes (bench/ours-step.ts `profile`, bench/gpt2-ours.ts `--profile`). For finding
// costs, not for timing: the wrappers add a little to every call.
import type { Backend, GemmArgs, Strided } from '../src/backend/index.js';

/** Per-kernel call counts and milliseconds, keyed by kernel name and a shape class. */
export type KernelTimes = Map<string, { calls: number; ms: number }>;

/** A key naming a kernel call finely enough to find the costly ones (gemm by shape, binary by op and layout). */
function kernelKey(name: string, args: unknown[]): string {
  if (name === 'gemm') {
    const g = args[0] as GemmArgs;
    return `gemm ${g.batch}x[${g.m}x${g.k}]${g.transA ? 'T' : ''}*[${g.k}x${g.n}]${g.transB ? 'T' : ''}`;
  }
  if (name === 'binary') {
    const [op, a, b, shape] = args as [string, Strided, Strided, number[]];
    const kind = (x: Strided): string => (x.strides.some((st) => st === 0) ? 'bcast' : 'full');
    return `binary ${op} ${kind(a)},${kind(b)} [${shape.join(',')}]`;
  }
  if (name === 'copy') return `copy [${(args[2] as number[]).join(',')}]`;
  if (name === 'reduce') return `reduce ${String(args[0])} [${(args.slice(2, 5) as number[]).join(',')}]`;
  if (name === 'unary' || name === 'unaryBackward') return `${name} ${String(args[0])}`;
  return name;
}

/** Wraps every kernel of the backend object (core and fused) in a timer; returns the table and a function that undoes it. */
export function instrument(backend: Backend): { times: KernelTimes; restore: () => void } {
  const times: KernelTimes = new Map();
  const undo: Array<() => void> = [];
  /** `fn` timed under `name`. */
  const timed = (fn: (...a: unknown[]) => unknown, self: unknown, name: string) => (...args: unknown[]): unknown => {
    const t0 = performance.now();
    const r = fn.apply(self, args);
    const k = kernelKey(name, args);
    const e = times.get(k) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += performance.now() - t0;
    times.set(k, e);
    return r;
  };
  const wrap = (target: Record<string, unknown>, key: string, name: string): void => {
    const original = target[key] as (...a: unknown[]) => unknown;
    target[key] = timed(original, target, name);
    undo.push(() => { target[key] = original; });
  };
  const core = backend as unknown as Record<string, unknown>;
  const skip = new Set(['threads', 'alloc', 'free', 'write', 'read', 'readSync']);
  for (const [name, fn] of Object.entries(core)) if (typeof fn === 'function' && !skip.has(name)) wrap(core, name, name);
  const fused = backend.fused as Record<string, unknown>;
  for (const [name, path] of Object.entries(fused)) {
    if (path === undefined) continue;
    const parts = 'run' in (path as object) ? [['', path]] : Object.entries(path as object); // packedAttention has two paths
    for (const [part, p] of parts) wrap(p as Record<string, unknown>, 'run', part === '' ? name : `${name}.${part as string}`);
  }
  const step = backend.fused.decoderStep; // a bound step's tokens are timed under decoderStep
  if (step !== undefined) {
    const bind = step.bind;
    step.bind = (args) => timed(bind.call(step, args) as (...a: unknown[]) => unknown, undefined, 'decoderStep');
    undo.push(() => { step.bind = bind; });
  }
  return { times, restore: () => { for (const u of undo.reverse()) u(); } };
}

/** The kernel times per step (or per decode), costliest first. */
export function kernelTable(times: KernelTimes, per: number): { kernel: string; calls: number; ms: number }[] {
  return [...times].map(([kernel, e]) => ({ kernel, calls: e.calls / per, ms: e.ms / per })).sort((x, y) => y.ms - x.ms);
}
