// Row softmax / log-softmax (scale * x + a strided additive mask) and its backward on the WebGPU backend, mirroring
// softmax and softmaxBackward of src/backend/ts/nn.ts: one team of threads per row (rows.ts), three passes over the
// row (max, sum of exponentials, write). A row whose every score is -inf (fully masked) gives NaN, as ts's 0 / 0 does.

import type { SoftmaxArgs, SoftmaxBackwardArgs } from '../../backend.js';
import { gpuBuffer } from '../memory.js';
import { paramLayout } from '../params.js';
import { ROW_THREADS } from '../rows.js';
import { defineKernel, storage, type Runtime } from '../runtime.js';
import { coalesce, offsetsWgsl } from './strided.js';

const FORWARD_PARAMS = paramLayout({
  rows: 'u32', cols: 'u32', offX: 'u32', offOut: 'u32', scale: 'f32', colStride: 'i32', rank: 'u32', off0: 'i32',
  shape: 'u32x8', s0: 'i32x8',
});

/** out = softmax (or log-softmax) over the last dim of scale * x + mask; x and out dense with `shape`. */
export function softmax(rt: Runtime, a: SoftmaxArgs): void {
  const cols = a.shape[a.shape.length - 1] ?? 1;
  const rowShape = a.shape.slice(0, -1);
  const rows = rowShape.reduce((p, d) => p * d, 1);
  if (rows === 0 || cols === 0) return;
  const masked = a.mask !== null;
  const k = defineKernel(`softmax${a.log ? '_log' : ''}${masked ? '_masked' : ''}${rt.rows.tag}`, () => ({
    directives: rt.rows.directives, params: FORWARD_PARAMS, buffers: masked ? 3 : 2,
    code: `${rt.rows.reduce}${storage(1, 'xs', 'array<f32>')}${storage(2, 'out', 'array<f32>')}${masked ? storage(3, 'mask', 'array<f32>') : ''}
@compute @workgroup_size(${ROW_THREADS}) fn main(${rt.rows.builtins}) {
  ${rt.rows.index}
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  ${masked ? offsetsWgsl(1, 'row') : 'let o0 = 0;'}
  var mx = -inf();
  for (var j = lane; j < p.cols; j += lanes) { let z = score(base, o0, j); if (z > mx) { mx = z; } }
  mx = row_max(mx, lane);
  if (is_neg_inf(mx)) { mx = 0.0; }
  var sum = 0.0;
  for (var j = lane; j < p.cols; j += lanes) { sum += ex(score(base, o0, j) - mx); }
  sum = row_sum(sum, lane);
  let lse = mx + log(sum);
  for (var j = lane; j < p.cols; j += lanes) {
    let z = score(base, o0, j);
    ${a.log ? 'var y = z - lse;' : 'var y = ex(z - mx) / sum;'}
    if (sum == 0.0) { y = nan(); }
    out[p.offOut + base + j] = y;
  }
}
fn ex(v: f32) -> f32 { return select(exp(v), 0.0, is_neg_inf(v)); }
fn score(base: u32, o0: i32, j: u32) -> f32 {
  return p.scale * xs[p.offX + base + j]${masked ? ' + mask[o0 + i32(j) * p.colStride]' : ''};
}`,
  }));
  const buffers = [gpuBuffer(a.x.buf), gpuBuffer(a.out.buf)];
  let rank = 0;
  let off0 = 0;
  let shape: number[] = [];
  let s0: number[] = [];
  let colStride = 0;
  if (a.mask !== null) {
    buffers.push(gpuBuffer(a.mask.buf));
    const c = coalesce(k.name, rowShape, [a.mask.strides.slice(0, -1)]);
    [rank, off0, shape, s0, colStride] = [c.shape.length, a.mask.offset, c.shape, c.strides[0]!, a.mask.strides[a.shape.length - 1]!];
  }
  rt.dispatch(k, { rows, cols, offX: a.x.offset, offOut: a.out.offset, scale: a.scale, colStride, rank, off0, shape, s0 }, buffers, rt.rows.groups(rows));
}

/** dx = scale * (softmax: y * (dy - sum(dy * y)); log-softmax: dy - exp(y) * sum(dy)), rows of [rows, cols]. */
export function softmaxBackward(rt: Runtime, a: SoftmaxBackwardArgs): void {
  if (a.rows === 0 || a.cols === 0) return;
  const k = defineKernel(`softmax_backward${a.log ? '_log' : ''}${rt.rows.tag}`, () => ({
    directives: rt.rows.directives,
    params: paramLayout({ rows: 'u32', cols: 'u32', offY: 'u32', offDy: 'u32', offDx: 'u32', scale: 'f32' }), buffers: 3,
    code: `${rt.rows.reduce}${storage(1, 'ys', 'array<f32>')}${storage(2, 'dys', 'array<f32>')}${storage(3, 'dxs', 'array<f32>')}
@compute @workgroup_size(${ROW_THREADS}) fn main(${rt.rows.builtins}) {
  ${rt.rows.index}
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var dot = 0.0;
  for (var j = lane; j < p.cols; j += lanes) { dot += dys[p.offDy + base + j]${a.log ? '' : ' * ys[p.offY + base + j]'}; }
  dot = row_sum(dot, lane);
  for (var j = lane; j < p.cols; j += lanes) {
    let y = ys[p.offY + base + j];
    let dy = dys[p.offDy + base + j];
    dxs[p.offDx + base + j] = p.scale * ${a.log ? '(dy - exp(y) * dot)' : 'y * (dy - dot)'};
  }
}`,
  }));
  rt.dispatch(k, { rows: a.rows, cols: a.cols, offY: a.y.offset, offDy: a.dy.offset, offDx: a.dx.offset, scale: a.scale },
    [gpuBuffer(a.y.buf), gpuBuffer(a.dy.buf), gpuBuffer(a.dx.buf)], rt.rows.groups(a.rows));
}
