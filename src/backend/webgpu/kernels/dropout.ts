// Dropout on the WebGPU backend drawing exactly the bits of dropout in src/backend/ts/nn.ts: element i of a call
// takes the i-th xoshiro128** output from `state`. Each thread owns CHUNK consecutive elements (CHUNK / 32 whole
// keep-bit words, so no two threads share a word): it jumps from `state` to its chunk's start by the matrices
// M^(CHUNK * 2^j) for the set bits j of its index (xoshiro-jump.ts), then steps sequentially. The host advances
// `state` by n with the same matrices. u >= p is compared exactly as next >= ceil(p * 2^32).

import type { DropoutArgs, DropoutBackwardArgs } from '../../backend.js';
import { gpuBuffer, type DevicePool } from '../memory.js';
import { paramLayout } from '../params.js';
import { defineKernel, FLAT_BUILTINS, FLAT_INDEX, grid, storage, type Runtime } from '../runtime.js';
import { jump, power } from '../xoshiro-jump.js';

/** Elements per thread (log2): 128 draws, 4 keep words. */
const CHUNK_LOG2 = 7;
const CHUNK = 1 << CHUNK_LOG2;
/** Jump matrices uploaded: threads 0 .. 2^JUMPS - 1 (2^(JUMPS + 7) elements). */
const JUMPS = 30;

/** Throws as ts/nn.ts's checkDropout does for p outside [0, 1). */
function checkP(p: number): void {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout p must be in [0, 1), got ${p}`);
}

/** The jump matrices M^(CHUNK * 2^j), j < JUMPS, on the device (uploaded once per pool's device). */
const uploaded = new WeakMap<Runtime, GPUBuffer>();
function jumpMatrices(rt: Runtime, pool: DevicePool): GPUBuffer {
  let b = uploaded.get(rt);
  if (b === undefined) {
    const all = new Uint32Array(JUMPS * 512);
    for (let j = 0; j < JUMPS; j++) all.set(power(CHUNK_LOG2 + j), j * 512);
    b = pool.alloc(all.length, false).buffer;
    rt.flush();
    rt.device.queue.writeBuffer(b, 0, all);
    uploaded.set(rt, b);
  }
  return b;
}

const PARAMS = paramLayout({ n: 'u32', threshold: 'u32', never: 'u32', keep: 'f32', offX: 'u32', offOut: 'u32', offBits: 'u32', s0: 'u32', s1: 'u32', s2: 'u32', s3: 'u32' });

/** Inverted dropout (with `relu`: of ReLU(x), bits set only where kept and x > 0); advances a.state by n. */
export function dropout(rt: Runtime, pool: DevicePool, a: DropoutArgs, relu: boolean): void {
  checkP(a.p);
  if (a.n === 0) return;
  if (a.n > CHUNK * 2 ** JUMPS) throw new RangeError(`webgpu dropout: ${a.n} elements, at most ${CHUNK * 2 ** JUMPS}`);
  const thr = Math.ceil(a.p * 4294967296);
  const k = defineKernel(`dropout${relu ? '_relu' : ''}`, () => ({
    params: PARAMS, buffers: 4,
    code: `${storage(1, 'xs', 'array<f32>')}${storage(2, 'out', 'array<f32>')}${storage(3, 'bits', 'array<u32>')}${storage(4, 'jumps', 'array<vec4<u32>>')}
fn rotl(x: u32, k: u32) -> u32 { return (x << k) | (x >> (32u - k)); }
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let t = ${FLAT_INDEX};
  let first = t * ${CHUNK}u;
  if (first >= p.n) { return; }
  var s = vec4<u32>(p.s0, p.s1, p.s2, p.s3);
  for (var j = 0u; j < ${JUMPS}u; j++) {
    if (((t >> j) & 1u) == 0u) { continue; }
    var r = vec4<u32>(0u);
    for (var b = 0u; b < 128u; b++) { if (((s[b >> 5u] >> (b & 31u)) & 1u) == 1u) { r ^= jumps[j * 128u + b]; } }
    s = r;
  }
  let last = min(p.n, first + ${CHUNK}u);
  var word = 0u;
  for (var i = first; i < last; i++) {
    let draw = rotl(s.y * 5u, 7u) * 9u;
    let tt = s.y << 9u;
    s.z ^= s.x; s.w ^= s.y; s.y ^= s.z; s.x ^= s.w; s.z ^= tt; s.w = rotl(s.w, 11u);
    let x = xs[p.offX + i];
    let kept = p.never == 0u && draw >= p.threshold${relu ? ' && x > 0.0' : ''};
    if (kept) { word |= 1u << (i & 31u); }
    out[p.offOut + i] = ${relu ? 'select(0.0, x * p.keep, kept)' : 'x * select(0.0, p.keep, kept)'};
    if ((i & 31u) == 31u || i + 1u == last) { bits[p.offBits + (i >> 5u)] = word; word = 0u; }
  }
}`,
  }));
  const s = a.state;
  rt.dispatch(k, {
    n: a.n, threshold: Math.min(thr, 0xffffffff), never: thr > 0xffffffff ? 1 : 0, keep: Math.fround(1 / (1 - a.p)),
    offX: a.x.offset, offOut: a.out.offset, offBits: a.keepBits.offset, s0: s[0]!, s1: s[1]!, s2: s[2]!, s3: s[3]!,
  }, [gpuBuffer(a.x.buf), gpuBuffer(a.out.buf), gpuBuffer(a.keepBits.buf), jumpMatrices(rt, pool)], grid(Math.ceil(a.n / CHUNK)));
  jump(a.state, a.n);
}

/** dx[i] = dy[i] * (bit i of keepBits ? float(1 / (1 - p)) : 0). */
export function dropoutBackward(rt: Runtime, a: DropoutBackwardArgs): void {
  checkP(a.p);
  if (a.n === 0) return;
  const k = defineKernel('dropout_backward', () => ({
    params: paramLayout({ n: 'u32', keep: 'f32', offDy: 'u32', offBits: 'u32', offDx: 'u32' }), buffers: 3,
    code: `${storage(1, 'dys', 'array<f32>')}${storage(2, 'bits', 'array<u32>')}${storage(3, 'dxs', 'array<f32>')}
@compute @workgroup_size(256) fn main(${FLAT_BUILTINS}) {
  let i = ${FLAT_INDEX};
  if (i >= p.n) { return; }
  let kept = ((bits[p.offBits + (i >> 5u)] >> (i & 31u)) & 1u) == 1u;
  dxs[p.offDx + i] = dys[p.offDy + i] * select(0.0, p.keep, kept);
}`,
  }));
  rt.dispatch(k, { n: a.n, keep: Math.fround(1 / (1 - a.p)), offDy: a.dy.offset, offBits: a.keepBits.offset, offDx: a.dx.offset },
    [gpuBuffer(a.dy.buf), gpuBuffer(a.keepBits.buf), gpuBuffer(a.dx.buf)], grid(a.n));
}
