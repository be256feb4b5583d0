// `node --import tsx bench/attention.ts [T] [heads] [batch] [--profile]`: the packed attention op forward and backward
// on the backend in use (native by default), under GPT-2's causal mask and with no mask, best ms of 5; for A/B runs of
// the attention kernels (compare two builds on one machine, one after the other). --profile adds the kernels' times.
import { getBackend } from '../src/backend/index.js';
import { causalMask } from '../src/nn/masks.js';
import { packedAttention, randn, tidy } from '../src/tensor/index.js';
import { instrument, kernelTable } from './kernel-timer.js';

const args = process.argv.slice(2).filter((a) => a !== '--profile');
const [T, heads, batch] = [Number(args[0] ?? 1024), Number(args[1] ?? 12), Number(args[2] ?? 1)];
const d = 64;
const x = randn([batch, T, 3 * heads * d]).requireGrad();
/** ms of one forward and backward under `mask`, best of `reps` after one warm-up. */
function time(mask: ReturnType<typeof causalMask> | undefined, reps: number): { fwd: number; bwd: number } {
  let best = { fwd: Infinity, bwd: Infinity };
  for (let r = 0; r <= reps; r++) {
    tidy(() => {
      const t0 = performance.now();
      const { output } = packedAttention({ t: x, col: 0 }, { t: x, col: heads * d }, { t: x, col: 2 * heads * d }, d, d, { heads, ...(mask ? { mask } : {}) });
      const t1 = performance.now();
      output.sum().backward();
      const t2 = performance.now();
      if (r > 0) best = { fwd: Math.min(best.fwd, t1 - t0), bwd: Math.min(best.bwd, t2 - t1) };
    });
    x.zeroGrad();
  }
  return best;
}
const causal = causalMask(T);
for (const [name, mask] of [['causal', causal], ['none', undefined]] as const) {
  time(mask, 0); // warm-up, outside the profile
  const probe = process.argv.includes('--profile') ? instrument(getBackend()) : null;
  const t = time(mask, 5);
  probe?.restore();
  console.log(`${name.padEnd(6)} T=${T} heads=${heads} batch=${batch}: forward ${t.fwd.toFixed(2)} ms, backward ${t.bwd.toFixed(2)} ms`);
  if (probe !== null) for (const k of kernelTable(probe.times, 6)) console.log(`  ${k.kernel}: ${k.ms.toFixed(2)} ms`);
}
