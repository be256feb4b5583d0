// LayerNorm forward and backward on the WebGPU backend, mirroring layerNorm and layerNormBackward of
// src/backend/ts/nn.ts (with its residual form, the fused addLayerNorm): one team of threads per row (rows.ts; two-pass
// mean and biased variance); dgamma and dbeta are column sums over the rows, taken in chunks of rows (partial sums
// into scratch) and then added (+=) in order.

import type { Dense, LayerNormArgs, LayerNormBackwardArgs } from '../../backend.js';
import { gpuBuffer, type DevicePool } from '../memory.js';
import { paramLayout } from '../params.js';
import { ROW_THREADS } from '../rows.js';
import { defineKernel, FLAT_BUILTINS, FLAT_INDEX, grid, storage, type Runtime } from '../runtime.js';

/** Rows per partial sum of the dgamma / dbeta column sums. */
const CHUNK_ROWS = 64;

/**
 * out = (x - mean) * rstd * gamma + beta over rows of [rows, cols]; saves mean and rstd. With `residual`, of
 * s = x + y instead, s written to `sum` (each thread rereads only the sums it wrote).
 */
export function layerNorm(rt: Runtime, a: LayerNormArgs, residual: { y: Dense; sum: Dense } | null = null): void {
  if (a.rows === 0) return;
  const add = residual !== null;
  const k = defineKernel(`${add ? 'add_layer_norm' : 'layer_norm'}${rt.rows.tag}`, () => ({
    directives: rt.rows.directives,
    params: paramLayout({ rows: 'u32', cols: 'u32', eps: 'f32', offX: 'u32', offG: 'u32', offB: 'u32', offOut: 'u32', offMean: 'u32', offRstd: 'u32',
      offY: 'u32', offSum: 'u32' }),
    buffers: add ? 8 : 6,
    code: `${rt.rows.reduce}${storage(1, 'xs', 'array<f32>')}${storage(2, 'gamma', 'array<f32>')}${storage(3, 'beta', 'array<f32>')}${storage(4, 'out', 'array<f32>')}${storage(5, 'means', 'array<f32>')}${storage(6, 'rstds', 'array<f32>')}${add ? `${storage(7, 'ys', 'array<f32>')}${storage(8, 'sums', 'array<f32>')}` : ''}
fn value(row: u32, j: u32) -> f32 { return ${add ? 'sums[p.offSum + row * p.cols + j]' : 'xs[p.offX + row * p.cols + j]'}; }
@compute @workgroup_size(${ROW_THREADS}) fn main(${rt.rows.builtins}) {
  ${rt.rows.index}
  if (row >= p.rows) { return; }
  var s = 0.0;
  for (var j = lane; j < p.cols; j += lanes) {
    ${add ? `let v = xs[p.offX + row * p.cols + j] + ys[p.offY + row * p.cols + j];
    sums[p.offSum + row * p.cols + j] = v;
    s += v;` : 's += value(row, j);'}
  }
  let mu = row_sum(s, lane) / f32(p.cols);
  var v = 0.0;
  for (var j = lane; j < p.cols; j += lanes) { let d = value(row, j) - mu; v += d * d; }
  let rs = 1.0 / sqrt(row_sum(v, lane) / f32(p.cols) + p.eps);
  if (lane == 0u) { means[p.offMean + row] = mu; rstds[p.offRstd + row] = rs; }
  for (var j = lane; j < p.cols; j += lanes) {
    out[p.offOut + row * p.cols + j] = (value(row, j) - mu) * rs * gamma[p.offG + j] + beta[p.offB + j];
  }
}`,
  }));
  const buffers = [a.x, a.gamma, a.beta, a.out, a.mean, a.rstd].map((d) => gpuBuffer(d.buf));
  if (residual !== null) buffers.push(gpuBuffer(residual.y.buf), gpuBuffer(residual.sum.buf));
  rt.dispatch(k, { rows: a.rows, cols: a.cols, eps: a.eps, offX: a.x.offset, offG: a.gamma.offset, offB: a.beta.offset, offOut: a.out.offset,
    offMean: a.mean.offset, offRstd: a.rstd.offset, offY: residual?.y.offset ?? 0, offSum: residual?.sum.offset ?? 0 }, buffers, rt.rows.groups(a.rows));
}

const BACKWARD_PARAMS = paramLayout({
  rows: 'u32', cols: 'u32', chunks: 'u32', offX: 'u32', offG: 'u32', offMean: 'u32', offRstd: 'u32', offDy: 'u32', offDx: 'u32',
  offDg: 'u32', offDb: 'u32',
});

/** dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma; dgamma += sum(dy * xhat), dbeta += sum(dy). */
export function layerNormBackward(rt: Runtime, pool: DevicePool, a: LayerNormBackwardArgs): void {
  if (a.rows === 0 || a.cols === 0) return;
  const chunks = Math.ceil(a.rows / CHUNK_ROWS);
  const values = { rows: a.rows, cols: a.cols, chunks, offX: a.x.offset, offG: a.gamma.offset, offMean: a.mean.offset, offRstd: a.rstd.offset,
    offDy: a.dy.offset, offDx: a.dx.offset, offDg: a.dgamma.offset, offDb: a.dbeta.offset };
  const [x, gamma, mean, rstd, dy] = [a.x, a.gamma, a.mean, a.rstd, a.dy].map((d) => gpuBuffer(d.buf)) as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
  const bufs = `${storage(1, 'xs', 'array<f32>')}${storage(2, 'gamma', 'array<f32>')}${storage(3, 'means', 'array<f32>')}${storage(4, 'rstds', 'array<f32>')}${storage(5, 'dys', 'array<f32>')}`;
  const dx = defineKernel(`layer_norm_backward_dx${rt.rows.tag}`, () => ({
    directives: rt.rows.directives, params: BACKWARD_PARAMS, buffers: 6,
    code: `${rt.rows.reduce}${bufs}${storage(6, 'dxs', 'array<f32>')}
@compute @workgroup_size(${ROW_THREADS}) fn main(${rt.rows.builtins}) {
  ${rt.rows.index}
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  let mu = means[p.offMean + row];
  let rs = rstds[p.offRstd + row];
  var sg = 0.0;
  var sgx = 0.0;
  for (var j = lane; j < p.cols; j += lanes) {
    let g = dys[p.offDy + base + j] * gamma[p.offG + j];
    sg += g;
    sgx += g * (xs[p.offX + base + j] - mu) * rs;
  }
  sg = row_sum(sg, lane) / f32(p.cols);
  sgx = row_sum(sgx, lane) / f32(p.cols);
  for (var j = lane; j < p.cols; j += lanes) {
    let xhat = (xs[p.offX + base + j] - mu) * rs;
    dxs[p.offDx + base + j] = rs * (dys[p.offDy + base + j] * gamma[p.offG + j] - sg - xhat * sgx);
  }
}`,
  }));
  rt.dispatch(dx, values, [x, gamma, mean, rstd, dy, gpuBuffer(a.dx.buf)], rt.rows.groups(a.rows));
  // partial[c, j] = sum over chunk c's rows of dy * xhat; partial[chunks + c, j] = of dy
  const partials = defineKernel('layer_norm_backward_partials', () => ({
    params: BACKWARD_PARAMS, buffers: 6,
    code: `${bufs}${storage(6, 'partial', 'array<f32>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.cols * p.chunks) { return; }
  let j = i % p.cols;
  let c = i / p.cols;
  var sg = 0.0;
  var sb = 0.0;
  for (var r = c * ${CHUNK_ROWS}u; r < min(p.rows, (c + 1u) * ${CHUNK_ROWS}u); r++) {
    let dy = dys[p.offDy + r * p.cols + j];
    sg += dy * (xs[p.offX + r * p.cols + j] - means[p.offMean + r]) * rstds[p.offRstd + r];
    sb += dy;
  }
  partial[c * p.cols + j] = sg;
  partial[(p.chunks + c) * p.cols + j] = sb;
}`,
  }));
  const accumulate = defineKernel('layer_norm_backward_accumulate', () => ({
    params: BACKWARD_PARAMS, buffers: 3,
    code: `${storage(1, 'partial', 'array<f32>')}${storage(2, 'dgamma', 'array<f32>')}${storage(3, 'dbeta', 'array<f32>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let j = ${FLAT_INDEX};
  if (j >= p.cols) { return; }
  var sg = 0.0;
  var sb = 0.0;
  for (var c = 0u; c < p.chunks; c++) { sg += partial[c * p.cols + j]; sb += partial[(p.chunks + c) * p.cols + j]; }
  dgamma[p.offDg + j] += sg;
  dbeta[p.offDb + j] += sb;
}`,
  }));
  pool.scratch(2 * chunks * a.cols, (partial) => {
    rt.dispatch(partials, values, [x, gamma, mean, rstd, dy, partial], grid(chunks * a.cols));
    rt.dispatch(accumulate, values, [partial, gpuBuffer(a.dgamma.buf), gpuBuffer(a.dbeta.buf)], grid(a.cols));
  });
}
