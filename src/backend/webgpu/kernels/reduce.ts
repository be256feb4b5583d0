// Reductions of the WebGPU backend over the middle axis of [outer, n, inner], mirroring src/backend/ts/reduce.ts:
// sum, max (NaN propagates) and argmax (first index wins ties, NaN never wins). inner = 1 (rows): one workgroup
// per row reduces in shared memory; otherwise one thread per output walks n (reads coalesced across inner).

import type { Dense, ReduceOp } from '../../backend.js';
import { gpuBuffer } from '../memory.js';
import { paramLayout } from '../params.js';
import { defineKernel, FLAT_BUILTINS, FLAT_INDEX, grid, ROW_INDEX, storage, WORKGROUP_REDUCE, type Runtime } from '../runtime.js';

const PARAMS = paramLayout({ outer: 'u32', n: 'u32', inner: 'u32', offX: 'u32', offOut: 'u32' });

/** Reduces x [outer, n, inner] over n into out [outer, inner]. */
export function reduce(rt: Runtime, a: { op: ReduceOp; x: Dense; outer: number; n: number; inner: number; out: Dense }): void {
  const outputs = a.outer * a.inner;
  if (outputs === 0) return;
  const init = a.op === 'sum' ? '0.0' : '-inf()';
  const step = a.op === 'sum' ? 'acc + v' : 'select(acc, v, v > acc || is_nan(v))';
  const bufs = `${storage(1, 'xs', 'array<f32>')}${storage(2, 'out', 'array<f32>')}`;
  const values = { outer: a.outer, n: a.n, inner: a.inner, offX: a.x.offset, offOut: a.out.offset };
  const buffers = [gpuBuffer(a.x.buf), gpuBuffer(a.out.buf)];
  if (a.inner === 1) {
    const k = defineKernel(`reduce_rows_${a.op}`, () => ({
      params: PARAMS, buffers: 2,
      code: `${WORKGROUP_REDUCE}${bufs}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let row = ${ROW_INDEX};
  if (row >= p.outer) { return; }
  let base = p.offX + row * p.n;
  var acc = ${init};
  for (var j = lid.x; j < p.n; j += 256u) { let v = xs[base + j]; acc = ${step}; }
  let r = ${a.op === 'sum' ? 'wg_sum(acc, lid.x)' : 'wg_max(acc, lid.x)'};
  if (lid.x == 0u) { out[p.offOut + row] = r; }
}`,
    }));
    rt.dispatch(k, values, buffers, grid(a.outer, 1));
    return;
  }
  const k = defineKernel(`reduce_strided_${a.op}`, () => ({
    params: PARAMS, buffers: 2,
    code: `${bufs}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.outer * p.inner) { return; }
  let o = i / p.inner;
  var q = p.offX + o * p.n * p.inner + i % p.inner;
  var acc = ${init};
  for (var j = 0u; j < p.n; j++) { let v = xs[q]; acc = ${step}; q += p.inner; }
  out[p.offOut + i] = acc;
}`,
  }));
  rt.dispatch(k, values, buffers, grid(outputs));
}

/** Int32 index of the first maximum over n of x [outer, n, inner] into out [outer, inner]; NaN never wins. */
export function argmax(rt: Runtime, a: { x: Dense; outer: number; n: number; inner: number; out: Dense }): void {
  const outputs = a.outer * a.inner;
  if (outputs === 0) return;
  const values = { outer: a.outer, n: a.n, inner: a.inner, offX: a.x.offset, offOut: a.out.offset };
  const buffers = [gpuBuffer(a.x.buf), gpuBuffer(a.out.buf)];
  const bufs = `${storage(1, 'xs', 'array<f32>')}${storage(2, 'out', 'array<i32>')}`;
  if (a.inner === 1) {
    // Each thread keeps its first strict maximum (index NONE while nothing beat -inf); pairs combine to the larger
    // value, the smaller index on ties; NONE at the end means every value was -inf or NaN: index 0, as ts.
    const k = defineKernel('argmax_rows', () => ({
      params: PARAMS, buffers: 2,
      code: `${bufs}
const NONE = 0xffffffffu;
var<workgroup> best: array<f32, 256>;
var<workgroup> at: array<u32, 256>;
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let row = ${ROW_INDEX};
  if (row >= p.outer) { return; }
  let t = lid.x;
  let base = p.offX + row * p.n;
  var b = -inf();
  var w = NONE;
  for (var j = t; j < p.n; j += 256u) { let v = xs[base + j]; if (v > b) { b = v; w = j; } }
  best[t] = b;
  at[t] = w;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (t < s) {
      let b2 = best[t + s];
      let w2 = at[t + s];
      if (w2 != NONE && (w == NONE || b2 > b || (b2 == b && w2 < w))) { b = b2; w = w2; best[t] = b; at[t] = w; }
    }
    workgroupBarrier();
  }
  if (t == 0u) { out[p.offOut + row] = select(i32(w), 0, w == NONE); }
}`,
    }));
    rt.dispatch(k, values, buffers, grid(a.outer, 1));
    return;
  }
  const k = defineKernel('argmax_strided', () => ({
    params: PARAMS, buffers: 2,
    code: `${bufs}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.outer * p.inner) { return; }
  var q = p.offX + (i / p.inner) * p.n * p.inner + i % p.inner;
  var b = -inf();
  var w = 0u;
  for (var j = 0u; j < p.n; j++) { let v = xs[q]; if (v > b) { b = v; w = j; } q += p.inner; }
  out[p.offOut + i] = i32(w);
}`,
  }));
  rt.dispatch(k, values, buffers, grid(outputs));
}
