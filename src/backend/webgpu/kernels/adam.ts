// The Adam(W) update on the WebGPU backend, mirroring adam of src/backend/ts/nn.ts: one thread per element, the
// bias corrections 1 - beta^t computed once on the host (in double, as ts).

import type { AdamArgs } from '../../backend.js';
import { gpuBuffer } from '../memory.js';
import { paramLayout } from '../params.js';
import { defineKernel, FLAT_BUILTINS, FLAT_INDEX, grid, storage, type Runtime } from '../runtime.js';

/** p -= lr * (m / c1) / (sqrt(v / c2) + eps) with m, v updated in place; weight decay decoupled (AdamW) or L2. */
export function adam(rt: Runtime, a: AdamArgs): void {
  if (a.n === 0) return;
  const k = defineKernel('adam', () => ({
    params: paramLayout({
      n: 'u32', offP: 'u32', offG: 'u32', offM: 'u32', offV: 'u32', decoupled: 'u32',
      lr: 'f32', beta1: 'f32', beta2: 'f32', eps: 'f32', wd: 'f32', c1: 'f32', c2: 'f32',
    }),
    buffers: 4,
    code: `${storage(1, 'param', 'array<f32>')}${storage(2, 'grad', 'array<f32>')}${storage(3, 'ms', 'array<f32>')}${storage(4, 'vs', 'array<f32>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.n) { return; }
  var w = param[p.offP + i];
  var g = grad[p.offG + i];
  if (p.wd != 0.0 && p.decoupled == 0u) { g += p.wd * w; }
  if (p.wd != 0.0 && p.decoupled == 1u) { w -= p.lr * p.wd * w; }
  let m = p.beta1 * ms[p.offM + i] + (1.0 - p.beta1) * g;
  let v = p.beta2 * vs[p.offV + i] + (1.0 - p.beta2) * g * g;
  ms[p.offM + i] = m;
  vs[p.offV + i] = v;
  param[p.offP + i] = w - p.lr * (m / p.c1) / (sqrt(v / p.c2) + p.eps);
}`,
  }));
  rt.dispatch(k, {
    n: a.n, offP: a.param.offset, offG: a.grad.offset, offM: a.m.offset, offV: a.v.offset, decoupled: a.decoupled ? 1 : 0,
    lr: a.lr, beta1: a.beta1, beta2: a.beta2, eps: a.eps, wd: a.weightDecay, c1: 1 - Math.pow(a.beta1, a.step), c2: 1 - Math.pow(a.beta2, a.step),
  }, [gpuBuffer(a.param.buf), gpuBuffer(a.grad.buf), gpuBuffer(a.m.buf), gpuBuffer(a.v.buf)], grid(a.n));
}
