// Batched fp32 GEMM of the WebGPU backend, mirroring src/backend/ts/gemm.ts: out[b] = alpha op(A[b]) op(B[b]) +
// beta out[b] (+ a bias row). Two paths, chosen by gemmPath() from the size of the product:
// - tiled (large products): classic shared-memory tiling; a workgroup of 16 x 16 threads computes a BM x BN tile of
//   C (64 x 64 with 4 x 4 registers per thread, or 128 x 128 with 8 x 8 for large products), staging BK-deep slices
//   of A and B in workgroup memory (loads coalesced along whichever dimension is contiguous in memory, zero-filled
//   past the edges), two barriers per slice.
// - direct (small products): each thread computes a 4 x 4 block of C reading A and B straight from storage, no
//   workgroup memory and no barrier. Small products are latency-bound on a real GPU, where caches serve the reuse
//   the tiles would; on SwiftShader (software Vulkan) every barrier is very expensive, so this is many times faster.
// Batch index = workgroup z (dispatched in chunks of 65535). Transposes and the bias are uniform flags, not
// specializations: three pipelines in all (each GEMM pipeline takes seconds to build on SwiftShader).

import type { GemmArgs } from '../../backend.js';
import { gpuBuffer } from '../memory.js';
import { paramLayout } from '../params.js';
import { defineKernel, grid, storage, type Runtime } from '../runtime.js';

/**
 * Multiply-adds (batch * m * n * k) from which a product takes the tiled path: below it, the direct path. On
 * SwiftShader the direct path wins at every size measured (3x at 256^3), so the bound is set for real GPUs: below
 * 2^24 (256^3) a product is launch-latency bound there and caches serve the direct path's reuse; above, tiles pay.
 */
const TILED_MIN_WORK = 2 ** 24;

/** A GEMM kernel family. */
export type GemmPath = 'direct' | 'tiled';

let forcedPath: GemmPath | null = null;

/** Makes every later gemm take `path` whatever its size (null: choose by size again); for tests of both paths. */
export function forceGemmPath(path: GemmPath | null): void {
  forcedPath = path;
}

/** The kernel family that computes `g`: direct below TILED_MIN_WORK multiply-adds, else tiled (unless forced). */
export function gemmPath(g: GemmArgs): GemmPath {
  return forcedPath ?? (g.batch * g.m * g.n * g.k < TILED_MIN_WORK ? 'direct' : 'tiled');
}

const PARAMS = paramLayout({
  m: 'u32', n: 'u32', k: 'u32', lda: 'u32', ldb: 'u32', ldc: 'u32', offA: 'u32', offB: 'u32', offOut: 'u32', offBias: 'u32',
  strideA: 'u32', strideB: 'u32', strideAOuter: 'u32', strideBOuter: 'u32', strideC: 'u32', strideCOuter: 'u32',
  batchInner: 'u32', batch0: 'u32', alpha: 'f32', beta: 'f32', transA: 'u32', transB: 'u32', hasBias: 'u32',
});

/** WGSL shared by both paths: buffers, the batch's base offsets and the epilogue storing one element of C. */
const COMMON = `${storage(1, 'a', 'array<f32>')}${storage(2, 'b', 'array<f32>')}${storage(3, 'c', 'array<f32>')}${storage(4, 'bias', 'array<f32>')}
fn store(r: u32, col: u32, v: f32, oBase: u32) {
  if (r >= p.m || col >= p.n) { return; }
  let o = oBase + r * p.ldc + col;
  var y = p.alpha * v;
  if (p.beta != 0.0) { y += p.beta * c[o]; }
  if (p.hasBias == 1u) { y += bias[p.offBias + col]; }
  c[o] = y;
}
fn bases(z: u32) -> vec3<u32> {
  let batch = z + p.batch0;
  let outer = batch / p.batchInner;
  let inner = batch % p.batchInner;
  return vec3<u32>(p.offA + outer * p.strideAOuter + inner * p.strideA, p.offB + outer * p.strideBOuter + inner * p.strideB,
    p.offOut + outer * p.strideCOuter + inner * p.strideC);
}
`;

/** Rows (and columns) of the block of C one thread of the direct path computes. */
const DR = 4;

/** The direct (barrier-free) GEMM kernel: thread t of batch z computes the DR x DR block t of C[z]. */
const directKernel = defineKernel('gemm_direct', () => {
  const rr = [...Array(DR).keys()];
  const fmas = rr.flatMap((i) => rr.map((j) => `acc${i}_${j} = fma(a${i}, b${j}, acc${i}_${j});`)).join(' ');
  return {
    params: PARAMS, buffers: 4,
    code: `${COMMON}
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid.x;
  let tilesN = (p.n + ${DR - 1}u) / ${DR}u;
  if (t >= tilesN * ((p.m + ${DR - 1}u) / ${DR}u)) { return; }
  let base = bases(wid.z);
  let row0 = (t / tilesN) * ${DR}u;
  let col0 = (t % tilesN) * ${DR}u;
  // element (r, kk) of op(A) at aBase + r * aR + kk * aK, (kk, col) of op(B) at bBase + kk * bK + col * bC; rows and
  // columns past the edge are clamped onto the last one (read, never stored)
  let aR = select(p.lda, 1u, p.transA == 1u);
  let aK = select(1u, p.lda, p.transA == 1u);
  let bK = select(p.ldb, 1u, p.transB == 1u);
  let bC = select(1u, p.ldb, p.transB == 1u);
  ${rr.map((i) => `let ra${i} = base.x + min(row0 + ${i}u, p.m - 1u) * aR;`).join(' ')}
  ${rr.map((j) => `let cb${j} = base.y + min(col0 + ${j}u, p.n - 1u) * bC;`).join(' ')}
  ${rr.flatMap((i) => rr.map((j) => `var acc${i}_${j} = 0.0;`)).join(' ')}
  for (var kk = 0u; kk < p.k; kk++) {
    ${rr.map((i) => `let a${i} = a[ra${i} + kk * aK];`).join(' ')}
    ${rr.map((j) => `let b${j} = b[cb${j} + kk * bK];`).join(' ')}
    ${fmas}
  }
  ${rr.flatMap((i) => rr.map((j) => `store(row0 + ${i}u, col0 + ${j}u, acc${i}_${j}, base.z);`)).join('\n  ')}
}`,
  };
});

/** A tile shape: R x R results per thread of a 16 x 16 workgroup, BK-deep slices. */
interface Tile { r: number; bk: number; }
const SMALL: Tile = { r: 4, bk: 16 };
const LARGE: Tile = { r: 8, bk: 8 };

/** WGSL loading one BK-deep slice of `mat` (A: rows x k, or B: k x cols) into workgroup memory. */
function loadSlice(mat: 'A' | 'B', t: Tile): string {
  const bm = 16 * t.r;
  const [buf, base, ld, edge, origin, tileVar, kContiguous] = mat === 'A'
    ? ['a', 'aBase', 'p.lda', 'p.m', 'row0', 'As', 'p.transA == 0u'] : ['b', 'bBase', 'p.ldb', 'p.n', 'col0', 'Bs', 'p.transB == 1u'];
  // element (x, kk) of the slice, x along m (A) or n (B); memory holds it x-major (k contiguous) or k-major, and
  // consecutive threads take consecutive addresses either way
  return `for (var q = 0u; q < ${(bm * t.bk) / 256}u; q++) {
      let e = tid + q * 256u;
      let kk = select(e / ${bm}u, e % ${t.bk}u, ${kContiguous});
      let x = select(e % ${bm}u, e / ${t.bk}u, ${kContiguous});
      let gx = ${origin} + x;
      let gk = k0 + kk;
      var v = 0.0;
      if (gx < ${edge} && gk < p.k) { v = ${buf}[select(${base} + gk * ${ld} + gx, ${base} + gx * ${ld} + gk, ${kContiguous})]; }
      ${tileVar}[kk * ${bm}u + x] = v;
    }`;
}

/** The tiled GEMM kernel of one tile shape. */
function gemmKernel(t: Tile) {
  return defineKernel(`gemm_${16 * t.r}`, () => {
    const bm = 16 * t.r;
    const rr = [...Array(t.r).keys()];
    const fmas = rr.flatMap((i) => rr.map((j) => `acc[${i * t.r + j}] = fma(av[${i}], bv[${j}], acc[${i * t.r + j}]);`)).join(' ');
    const stores = rr.flatMap((i) => rr.map((j) => `store(row0 + lid.y + ${16 * i}u, col0 + lid.x + ${16 * j}u, acc[${i * t.r + j}], oBase);`)).join('\n  ');
    return {
      params: PARAMS, buffers: 4,
      code: `${COMMON}
var<workgroup> As: array<f32, ${bm * t.bk}>;
var<workgroup> Bs: array<f32, ${bm * t.bk}>;
@compute @workgroup_size(16, 16) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let base = bases(wid.z);
  let aBase = base.x;
  let bBase = base.y;
  let oBase = base.z;
  let row0 = wid.y * ${bm}u;
  let col0 = wid.x * ${bm}u;
  let tid = lid.y * 16u + lid.x;
  var acc: array<f32, ${t.r * t.r}>;
  var av: array<f32, ${t.r}>;
  var bv: array<f32, ${t.r}>;
  for (var k0 = 0u; k0 < p.k; k0 += ${t.bk}u) {
    ${loadSlice('A', t)}
    ${loadSlice('B', t)}
    workgroupBarrier();
    for (var kk = 0u; kk < ${t.bk}u; kk++) {
      ${rr.map((i) => `av[${i}] = As[kk * ${bm}u + lid.y + ${16 * i}u];`).join(' ')}
      ${rr.map((j) => `bv[${j}] = Bs[kk * ${bm}u + lid.x + ${16 * j}u];`).join(' ')}
      ${fmas}
    }
    workgroupBarrier();
  }
  ${stores}
}`,
    };
  });
}

/** Batched GEMM (see GemmArgs); throws on a bias with beta != 0 or a batchInner that does not divide batch. */
export function gemm(rt: Runtime, g: GemmArgs): void {
  const bias = g.bias ?? null;
  if (bias !== null && g.beta !== 0) throw new Error('gemm: a bias needs beta = 0');
  const inner = g.batchInner ?? g.batch;
  if (g.batch > 0 && (!(inner >= 1) || g.batch % inner !== 0)) throw new Error('gemm: batchInner must divide batch');
  if (g.batch === 0 || g.m === 0 || g.n === 0) return;
  const { m, n } = g;
  const buffers = [gpuBuffer(g.a), gpuBuffer(g.b), gpuBuffer(g.out), bias === null ? rt.placeholder : gpuBuffer(bias.buf)];
  const direct = gemmPath(g) === 'direct';
  const tile = m >= 128 && n >= 128 && Math.ceil(m / 128) * Math.ceil(n / 128) * g.batch >= 32 ? LARGE : SMALL;
  const kernel = direct ? directKernel : gemmKernel(tile);
  const [gx, gy] = direct ? grid(Math.ceil(m / DR) * Math.ceil(n / DR), 64) : [Math.ceil(n / (16 * tile.r)), Math.ceil(m / (16 * tile.r))];
  for (let batch0 = 0; batch0 < g.batch; batch0 += 65535) {
    rt.dispatch(kernel, {
      m, n, k: g.k, lda: g.lda, ldb: g.ldb, ldc: g.ldc ?? n, offA: g.aOffset, offB: g.bOffset, offOut: g.outOffset ?? 0,
      offBias: bias?.offset ?? 0, strideA: g.strideA, strideB: g.strideB, strideAOuter: g.strideAOuter ?? 0,
      strideBOuter: g.strideBOuter ?? 0, strideC: g.strideC ?? m * n, strideCOuter: g.strideCOuter ?? inner * m * n,
      batchInner: inner, batch0, alpha: g.alpha, beta: g.beta, transA: g.transA ? 1 : 0, transB: g.transB ? 1 : 0, hasBias: bias === null ? 0 : 1,
    }, buffers, [gx, gy, Math.min(65535, g.batch - batch0)]);
  }
}
