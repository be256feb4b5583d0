// Where a GPT-2 124M training step spends its time (issue 19's training goal): every backend call timed by name
// (GEMMs by shape), the rest of the step is JavaScript between them. `node --import tsx bench/profile-gpt2.ts`
// (AIAYN_THREADS=2); prints a table sorted by time per step.
import { getBackend, setBackend } from '../src/backend/index.js';
import type { Backend } from '../src/backend/backend.js';
import { Gpt } from '../src/models/gpt.js';
import { makeGptConfig } from '../src/models/gpt-config.js';
import { tidy } from '../src/tensor/memory.js';
import { tensor } from '../src/tensor/ops/create.js';
import { Rng } from '../src/tensor/random.js';
import { AdamW } from '../src/train/optim.js';
import { NonfiniteGuard } from '../src/train/nonfinite.js';
import { guardedUpdate } from '../src/train/update.js';

const totals = new Map<string, { ms: number; calls: number }>();
const add = (name: string, ms: number): void => { const t = totals.get(name) ?? { ms: 0, calls: 0 }; t.ms += ms; t.calls++; totals.set(name, t); };
/** f timed under a name that may depend on its arguments. */
function timed<F extends (...a: any[]) => any>(f: F, name: (...a: Parameters<F>) => string, self: unknown): F {
  return ((...a: Parameters<F>) => { const t0 = performance.now(); const r = f.apply(self, a); add(name(...a), performance.now() - t0); return r; }) as F;
}
const base = getBackend();
const wrapped: any = { ...base, fused: {} };
for (const [key, value] of Object.entries(base)) {
  if (typeof value !== 'function') continue;
  wrapped[key] = timed(value, (...a: any[]) => {
    if (key === 'gemm') { const g = a[0]; return `gemm ${g.batch}x${g.m}x${g.n}x${g.k}${g.transA ? ' tA' : ''}${g.transB ? ' tB' : ''}${g.beta ? ' +=' : ''}`; }
    if (key === 'binary' || key === 'unary' || key === 'reduce') return `${key} ${a[0]}`;
    return key;
  }, base);
}
for (const [key, path] of Object.entries(base.fused)) {
  if (key === 'packedAttention') {
    const p = path as NonNullable<Backend['fused']['packedAttention']>;
    wrapped.fused.packedAttention = { scores: { ...p.scores, run: timed(p.scores.run, () => 'attention scores', p.scores) },
      backward: { ...p.backward, run: timed(p.backward.run, () => 'attention backward', p.backward) } };
  } else {
    const p = path as any;
    wrapped.fused[key] = { ...p, run: timed(p.run, () => key, p) };
  }
}
setBackend(wrapped as Backend);

const model = new Gpt(makeGptConfig('gpt2', { dropout: 0, attentionDropout: 0 }));
const optimizer = new AdamW(model.parameters(), { lr: 1e-4, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1, decays: (p) => p.rank >= 2 });
const rng = new Rng(1);
const [B, T] = [8, 128];
const ids = Int32Array.from({ length: B * (T + 1) }, () => Math.floor(rng.uniform() * 50257));
const x = new Int32Array(B * T);
const y = new Int32Array(B * T);
for (let r = 0; r < B; r++) { x.set(ids.subarray(r * (T + 1), r * (T + 1) + T), r * T); y.set(ids.subarray(r * (T + 1) + 1, (r + 1) * (T + 1)), r * T); }
const guard = new NonfiniteGuard();
const named = model.namedParameters();
const phase = { forward: 0, backward: 0, update: 0 };
/** One training step, its phases timed. */
async function step(): Promise<void> {
  let t0 = performance.now();
  const loss = tidy(() => {
    const l = model.loss(tensor(x, [B, T], 'int32'), tensor(y, [B, T], 'int32'));
    const t1 = performance.now(); phase.forward += t1 - t0; t0 = t1;
    l.backward(); return l;
  });
  const value = await loss.itemAsync();
  loss.dispose();
  let t1 = performance.now(); phase.backward += t1 - t0; t0 = t1;
  await guardedUpdate(value, optimizer, guard, named, 1);
  t1 = performance.now(); phase.update += t1 - t0;
}
const steps = Number(process.argv[2] ?? 3);
for (let i = 0; i < 2; i++) await step();
totals.clear(); phase.forward = phase.backward = phase.update = 0;
const t0 = performance.now();
for (let i = 0; i < steps; i++) await step();
const stepMs = (performance.now() - t0) / steps;
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
const kernelMs = rows.reduce((s, [, t]) => s + t.ms, 0) / steps;
console.log(`step ${stepMs.toFixed(0)} ms (forward ${(phase.forward / steps).toFixed(0)}, backward ${(phase.backward / steps).toFixed(0)}, update ${(phase.update / steps).toFixed(0)}); backend calls ${kernelMs.toFixed(0)} ms, between them ${(stepMs - kernelMs).toFixed(0)} ms`);
for (const [name, t] of rows) if (t.ms / steps >= 2) console.log(`${(t.ms / steps).toFixed(1).padStart(8)} ms  ${String(t.calls / steps).padStart(5)} calls  ${name}`);
