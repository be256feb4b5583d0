// Reductions of the WebGPU backend over the middle axis of [outer, n, inner], mirroring src/backend/ts/reduce.ts:
// sum, sum of squares, max (NaN propagates) and argmax (first index wins ties, NaN never wins). inner = 1 (rows): one team of
// threads per row reduces (rows.ts); otherwise one thread per output walks n (reads coalesced across inner).

import type { Dense, ReduceOp } from '../../backend.js';
import { gpuBuffer } from '../memory.js';
import { paramLayout } from '../params.js';
import { ROW_THREADS } from '../rows.js';
import { defineKernel, FLAT_BUILTINS, FLAT_INDEX, grid, storage, type Runtime } from '../runtime.js';

const PARAMS = paramLayout({ outer: 'u32', n: 'u32', inner: 'u32', offX: 'u32', offOut: 'u32' });

/** Reduces x [outer, n, inner] over n into out [outer, inner]. */
export function reduce(rt: Runtime, a: { op: ReduceOp; x: Dense; outer: number; n: number; inner: number; out: Dense }): void {
  const outputs = a.outer * a.inner;
  if (outputs === 0) return;
  const init = a.op === 'max' ? '-inf()' : '0.0';
  const step = { sum: 'acc + v', sumSquares: 'acc + v * v', max: 'select(acc, v, v > acc || is_nan(v))' }[a.op];
  const combine = a.op === 'max' ? 'row_max' : 'row_sum'; // a team's partial sums of squares add up as sums
  const bufs = `${storage(1, 'xs', 'array<f32>')}${storage(2, 'out', 'array<f32>')}`;
  const values = { outer: a.outer, n: a.n, inner: a.inner, offX: a.x.offset, offOut: a.out.offset };
  const buffers = [gpuBuffer(a.x.buf), gpuBuffer(a.out.buf)];
  if (a.inner === 1) {
    const k = defineKernel(`reduce_rows_${a.op}${rt.rows.tag}`, () => ({
      directives: rt.rows.directives, params: PARAMS, buffers: 2,
      code: `${rt.rows.reduce}${bufs}
@compute @workgroup_size(${ROW_THREADS}) fn main(${rt.rows.builtins}) {
  ${rt.rows.index}
  if (row >= p.outer) { return; }
  let base = p.offX + row * p.n;
  var acc = ${init};
  for (var j = lane; j < p.n; j += lanes) { let v = xs[base + j]; acc = ${step}; }
  let r = ${combine}(acc, lane);
  if (lane == 0u) { out[p.offOut + row] = r; }
}`,
    }));
    rt.dispatch(k, values, buffers, rt.rows.groups(a.outer));
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
    const k = defineKernel(`argmax_rows${rt.rows.tag}`, () => ({
      directives: rt.rows.directives, params: PARAMS, buffers: 2,
      code: `${bufs}
const NONE = 0xffffffffu;
${rt.rows.argmax}
@compute @workgroup_size(${ROW_THREADS}) fn main(${rt.rows.builtins}) {
  ${rt.rows.index}
  if (row >= p.outer) { return; }
  let base = p.offX + row * p.n;
  var b = -inf();
  var w = NONE;
  for (var j = lane; j < p.n; j += lanes) { let v = xs[base + j]; if (v > b) { b = v; w = j; } }
  let win = row_argmax(b, w, lane);
  if (lane == 0u) { out[p.offOut + row] = select(i32(win), 0, win == NONE); }
}`,
    }));
    rt.dispatch(k, values, buffers, rt.rows.groups(a.outer));
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
