// Embedding gather and scatter-add on the WebGPU backend, mirroring embedding and embeddingBackward of
// src/backend/ts/nn.ts. WGSL has no float atomics: the scatter adds with a compare-exchange loop on the bits
// (atomic<u32>), so rows that repeat an id sum in an unspecified order (within rounding of ts's ordered sum).

import type { EmbeddingArgs, EmbeddingBackwardArgs } from '../../backend.js';
import { gpuBuffer } from '../memory.js';
import { paramLayout } from '../params.js';
import { defineKernel, FLAT_BUILTINS, FLAT_INDEX, grid, storage, type Runtime } from '../runtime.js';
import { fill } from './elementwise.js';

/** out[i, :] = weight[ids[i], :] for `count` int32 ids. */
export function embedding(rt: Runtime, a: EmbeddingArgs): void {
  const n = a.count * a.dim;
  if (n === 0) return;
  const k = defineKernel('embedding', () => ({
    params: paramLayout({ count: 'u32', dim: 'u32', offW: 'u32', offIds: 'u32', offOut: 'u32' }), buffers: 3,
    code: `${storage(1, 'weight', 'array<f32>')}${storage(2, 'ids', 'array<i32>')}${storage(3, 'out', 'array<f32>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.count * p.dim) { return; }
  let row = u32(ids[p.offIds + i / p.dim]);
  out[p.offOut + i] = weight[p.offW + row * p.dim + i % p.dim];
}`,
  }));
  rt.dispatch(k, { count: a.count, dim: a.dim, offW: a.weight.offset, offIds: a.ids.offset, offOut: a.out.offset },
    [gpuBuffer(a.weight.buf), gpuBuffer(a.ids.buf), gpuBuffer(a.out.buf)], grid(n));
}

/** dweight [vocab, dim] = 0, then dweight[ids[i], :] += dy[i, :]. */
export function embeddingBackward(rt: Runtime, a: EmbeddingBackwardArgs): void {
  fill(rt, { out: a.dweight, n: a.vocab * a.dim, value: 0, dtype: 'float32' });
  const n = a.count * a.dim;
  if (n === 0) return;
  const k = defineKernel('embedding_backward', () => ({
    params: paramLayout({ count: 'u32', dim: 'u32', offDy: 'u32', offIds: 'u32', offDw: 'u32' }), buffers: 3,
    code: `${storage(1, 'dys', 'array<f32>')}${storage(2, 'ids', 'array<i32>')}${storage(3, 'dweight', 'array<atomic<u32>>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.count * p.dim) { return; }
  let v = dys[p.offDy + i];
  let at = p.offDw + u32(ids[p.offIds + i / p.dim]) * p.dim + i % p.dim;
  var old = atomicLoad(&dweight[at]);
  loop {
    let r = atomicCompareExchangeWeak(&dweight[at], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}`,
  }));
  rt.dispatch(k, { count: a.count, dim: a.dim, offDy: a.dy.offset, offIds: a.ids.offset, offDw: a.dweight.offset },
    [gpuBuffer(a.dy.buf), gpuBuffer(a.ids.buf), gpuBuffer(a.dweight.buf)], grid(n));
}
