// Row teams of the WebGPU backend: how a row kernel (softmax, layer norm, cross entropy, row reductions) splits
// each row among threads and reduces across them. With the adapter's `subgroups` feature, one subgroup per row
// reduces with subgroupAdd / subgroupMax and no barrier (ROW_THREADS / subgroup size rows per workgroup; this
// assumes subgroups are consecutive runs of local_invocation_index, as on every known implementation); without
// it, one ROW_THREADS-thread workgroup per row reduces through shared memory in log2(ROW_THREADS) barrier steps
// (the reference path). Barriers are what a software adapter (SwiftShader) pays most for: the subgroup path runs
// the same rows there about 20x faster, and on a GPU it spares the shared-memory round trips.

import { grid } from './runtime.js';

/** Threads per workgroup of every row kernel. */
export const ROW_THREADS = 64;

/** The WGSL pieces of row kernels, and their dispatch. */
export interface RowTeams {
  /** Kernel name suffix: kernels differ between the two paths. */
  readonly tag: string;
  /** Module-scope directives that open the WGSL (before anything else). */
  readonly directives: string;
  /** `row_sum(v, lane)` and `row_max(v, lane)` (NaN wins) over a row's team; call in the team's uniform control flow. */
  readonly reduce: string;
  /** `row_argmax(b, w, lane)`: the smallest index w (NONE: no candidate) among the team's largest b (never NaN). */
  readonly argmax: string;
  /** The builtins of `main` that `index` reads. */
  readonly builtins: string;
  /** WGSL declaring `row`, this thread's `lane` in the row's team and `lanes`, the team size (a row stride). */
  readonly index: string;
  /** The workgroups covering `rows` rows. */
  groups(rows: number): [number, number];
}

const FLAT_GROUP = '(wid.y * nwg.x + wid.x)';
const BUILTINS = '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>';

/** Teams of one workgroup per row, reducing through shared memory (the reference path). */
const WORKGROUP_TEAMS: RowTeams = {
  tag: '',
  directives: '',
  reduce: `
var<workgroup> red: array<f32, ${ROW_THREADS}>;
fn row_sum(v: f32, t: u32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = ${ROW_THREADS / 2}u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] += red[t + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn max_nan(a: f32, b: f32) -> f32 { return select(a, b, !is_nan(a) && (b > a || is_nan(b))); }
fn row_max(v: f32, t: u32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = ${ROW_THREADS / 2}u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] = max_nan(red[t], red[t + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
`,
  argmax: `
var<workgroup> best: array<f32, ${ROW_THREADS}>;
var<workgroup> at: array<u32, ${ROW_THREADS}>;
fn row_argmax(b0: f32, w0: u32, t: u32) -> u32 {
  var b = b0;
  var w = w0;
  best[t] = b;
  at[t] = w;
  workgroupBarrier();
  for (var s = ${ROW_THREADS / 2}u; s > 0u; s >>= 1u) {
    if (t < s) {
      let b2 = best[t + s];
      let w2 = at[t + s];
      if (w2 != NONE && (w == NONE || b2 > b || (b2 == b && w2 < w))) { b = b2; w = w2; best[t] = b; at[t] = w; }
    }
    workgroupBarrier();
  }
  return at[0];
}
`,
  builtins: BUILTINS,
  index: `let row = ${FLAT_GROUP}; let lane = lid.x; let lanes = ${ROW_THREADS}u;`,
  groups: (rows) => grid(rows, 1),
};

/** Teams of one subgroup per row, for subgroups of at most `maxSize` (<= ROW_THREADS) invocations. */
function subgroupTeams(maxSize: number): RowTeams {
  return {
    tag: '_sg',
    directives: 'enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n',
    reduce: `
fn row_sum(v: f32, t: u32) -> f32 { return subgroupAdd(v); }
fn row_max(v: f32, t: u32) -> f32 {
  let m = subgroupMax(select(v, -inf(), is_nan(v)));
  return select(m, nan(), subgroupAny(is_nan(v)));
}
`,
    argmax: `
fn row_argmax(b: f32, w: u32, t: u32) -> u32 {
  let m = subgroupMax(b);
  return subgroupMin(select(NONE, w, w != NONE && b == m));
}
`,
    builtins: `${BUILTINS}, @builtin(subgroup_invocation_id) sg_lane: u32, @builtin(subgroup_size) sg_size: u32`,
    index: `let row = ${FLAT_GROUP} * (${ROW_THREADS}u / sg_size) + lid.x / sg_size; let lane = sg_lane; let lanes = sg_size;`,
    // a smaller subgroup than maxSize takes more rows per workgroup: the extra rows return at once
    groups: (rows) => grid(rows, ROW_THREADS / maxSize),
  };
}

/** The row teams for a device: subgroups of at most `maxSubgroup` invocations when it has them (null: none). */
export function rowTeams(maxSubgroup: number | null): RowTeams {
  return maxSubgroup !== null && maxSubgroup <= ROW_THREADS ? subgroupTeams(maxSubgroup) : WORKGROUP_TEAMS;
}
