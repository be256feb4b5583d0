// Label-smoothed cross entropy on the WebGPU backend, mirroring crossEntropy of src/backend/ts/nn.ts and the mean
// of src/backend/host/backend.ts: (1) one team of threads (rows.ts) counts the rows whose target counts; (2) one
// team per row takes max, log-sum-exp, the target's logit and the sum of the logits, writes the row's loss to
// scratch and, with dlogits, the gradient (softmax - ((1 - eps) onehot + eps / V)) / counted (0 on ignored rows; in
// place when dlogits is the logits); (3) one team writes the mean loss over the counted rows (NaN when none
// counts). The fused generator-and-loss path (linearCrossEntropy) is x W^T + bias into dlogits, this loss in
// place, and dbias as dlogits' column sums.

import type { CrossEntropyArgs, LinearCrossEntropyArgs } from '../../backend.js';
import { gpuBuffer, type DevicePool } from '../memory.js';
import { paramLayout } from '../params.js';
import { ROW_THREADS } from '../rows.js';
import { defineKernel, storage, type Runtime } from '../runtime.js';
import { gemm } from './gemm.js';
import { reduce } from './reduce.js';

const PARAMS = paramLayout({
  rows: 'u32', vocab: 'u32', ignore: 'i32', smoothing: 'f32', offLogits: 'u32', offTargets: 'u32', offLoss: 'u32', offD: 'u32',
});

/** The mean cross entropy (and optionally its gradient w.r.t. the logits); see CrossEntropyArgs. */
export function crossEntropy(rt: Runtime, pool: DevicePool, a: CrossEntropyArgs): void {
  const grad = a.dlogits !== null;
  const values = { rows: a.rows, vocab: a.vocab, ignore: a.ignoreIndex, smoothing: a.smoothing, offLogits: a.logits.offset,
    offTargets: a.targets.offset, offLoss: a.loss.offset, offD: a.dlogits?.offset ?? 0 };
  const targets = gpuBuffer(a.targets.buf);
  // stats[0] = rows counted, stats[1 + r] = row r's loss
  const count = defineKernel(`cross_entropy_count${rt.rows.tag}`, () => ({
    directives: rt.rows.directives, params: PARAMS, buffers: 2,
    code: `${rt.rows.reduce}${storage(1, 'targets', 'array<i32>')}${storage(2, 'stats', 'array<f32>')}
@compute @workgroup_size(${ROW_THREADS}) fn main(${rt.rows.builtins}) {
  ${rt.rows.index}
  if (row > 0u) { return; }
  var c = 0.0;
  for (var r = lane; r < p.rows; r += lanes) { c += select(1.0, 0.0, targets[p.offTargets + r] == p.ignore); }
  c = row_sum(c, lane);
  if (lane == 0u) { stats[0] = c; }
}`,
  }));
  const rows = defineKernel(`cross_entropy_rows${grad ? '_grad' : ''}${rt.rows.tag}`, () => ({
    directives: rt.rows.directives, params: PARAMS, buffers: grad ? 4 : 3,
    code: `${rt.rows.reduce}${storage(1, 'targets', 'array<i32>')}${storage(2, 'stats', 'array<f32>')}${storage(3, 'logits', 'array<f32>')}${grad ? storage(4, 'dlogits', 'array<f32>') : ''}
@compute @workgroup_size(${ROW_THREADS}) fn main(${rt.rows.builtins}) {
  ${rt.rows.index}
  if (row >= p.rows) { return; }
  let base = p.offLogits + row * p.vocab;
  let t = targets[p.offTargets + row];
  let ignored = t == p.ignore;
  var mx = -inf();
  var tz = 0.0;
  for (var j = lane; j < p.vocab; j += lanes) { let z = logits[base + j]; if (z > mx) { mx = z; } if (i32(j) == t) { tz = z; } }
  mx = row_max(mx, lane);
  let target_logit = row_sum(tz, lane);
  var sum = 0.0;
  var total = 0.0;
  for (var j = lane; j < p.vocab; j += lanes) { let z = logits[base + j]; sum += exp(z - mx); total += z; }
  sum = row_sum(sum, lane);
  total = row_sum(total, lane);
  let lse = mx + log(sum);
  if (lane == 0u) {
    let loss = (1.0 - p.smoothing) * (lse - target_logit) + p.smoothing * (lse - total / f32(p.vocab));
    stats[1u + row] = select(loss, 0.0, ignored);
  }
  ${grad ? `let scale = 1.0 / stats[0];
  let off = p.smoothing / f32(p.vocab);
  let d = p.offD + row * p.vocab;
  for (var j = lane; j < p.vocab; j += lanes) {
    var g = scale * (exp(logits[base + j] - lse) - off);
    if (i32(j) == t) { g -= scale * (1.0 - p.smoothing); }
    dlogits[d + j] = select(g, 0.0, ignored);
  }` : ''}
}`,
  }));
  const mean = defineKernel(`cross_entropy_mean${rt.rows.tag}`, () => ({
    directives: rt.rows.directives, params: PARAMS, buffers: 2,
    code: `${rt.rows.reduce}${storage(1, 'stats', 'array<f32>')}${storage(2, 'loss', 'array<f32>')}
@compute @workgroup_size(${ROW_THREADS}) fn main(${rt.rows.builtins}) {
  ${rt.rows.index}
  if (row > 0u) { return; }
  var s = 0.0;
  for (var r = lane; r < p.rows; r += lanes) { s += stats[1u + r]; }
  s = row_sum(s, lane);
  if (lane == 0u) { loss[p.offLoss] = select(s / stats[0], nan(), stats[0] == 0.0); }
}`,
  }));
  pool.scratch(a.rows + 1, (stats) => {
    rt.dispatch(count, values, [targets, stats], rt.rows.groups(1));
    if (a.rows > 0) {
      const buffers = [targets, stats, gpuBuffer(a.logits.buf)];
      if (a.dlogits !== null) buffers.push(gpuBuffer(a.dlogits.buf));
      rt.dispatch(rows, values, buffers, rt.rows.groups(a.rows));
    }
    rt.dispatch(mean, values, [stats, gpuBuffer(a.loss.buf)], rt.rows.groups(1));
  });
}

/** logits = x W^T + bias into a.dlogits, then the mean loss; with a.grad, dlogits in place and dbias = its column sums. */
export function linearCrossEntropy(rt: Runtime, pool: DevicePool, a: LinearCrossEntropyArgs): void {
  gemm(rt, { batch: 1, m: a.rows, n: a.vocab, k: a.d, transA: false, transB: true, a: a.x.buf, aOffset: a.x.offset, lda: a.d, strideA: 0,
    b: a.weight.buf, bOffset: a.weight.offset, ldb: a.d, strideB: 0, out: a.dlogits.buf, outOffset: a.dlogits.offset, alpha: 1, beta: 0, bias: a.bias });
  crossEntropy(rt, pool, { logits: a.dlogits, targets: a.targets, rows: a.rows, vocab: a.vocab, ignoreIndex: a.ignoreIndex, smoothing: a.smoothing,
    loss: a.loss, dlogits: a.grad ? a.dlogits : null });
  if (a.grad && a.dbias !== null) reduce(rt, { op: 'sum', x: a.dlogits, outer: 1, n: a.rows, inner: a.vocab, out: a.dbias });
}
