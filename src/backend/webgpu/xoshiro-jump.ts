// Jumping ahead in the xoshiro128** stream of src/backend/xoshiro.ts. The generator's state update is linear over
// GF(2): state_{t+k} = M^k state_t for a fixed 128 x 128 bit matrix M. Powers M^(2^j), made once by squaring,
// advance a state by any n in at most 53 matrix-vector products, and give each GPU thread the start state of
// its chunk of draws, so a parallel dropout draws exactly the bits of the sequential one.

import { xoshiro128Next } from '../xoshiro.js';

/** A 128 x 128 bit matrix as its 128 columns (column b = the image of state bit b), 4 words each. */
export type BitMatrix = Uint32Array;

/** M v: the XOR of the columns of M where v has a bit set. */
export function applyMatrix(m: BitMatrix, v: Uint32Array): Uint32Array {
  const r = new Uint32Array(4);
  for (let b = 0; b < 128; b++) {
    if (((v[b >>> 5]! >>> (b & 31)) & 1) === 0) continue;
    for (let w = 0; w < 4; w++) r[w]! ^= m[b * 4 + w]!;
  }
  return r;
}

/** The one-step matrix M (each column: one step of a state holding only that bit). */
function stepMatrix(): BitMatrix {
  const m = new Uint32Array(128 * 4);
  for (let b = 0; b < 128; b++) {
    const s = new Uint32Array(4);
    s[b >>> 5] = (1 << (b & 31)) >>> 0;
    xoshiro128Next(s);
    m.set(s, b * 4);
  }
  return m;
}

/** A B (apply B, then A). */
function multiply(a: BitMatrix, b: BitMatrix): BitMatrix {
  const r = new Uint32Array(128 * 4);
  for (let c = 0; c < 128; c++) r.set(applyMatrix(a, b.subarray(c * 4, c * 4 + 4)), c * 4);
  return r;
}

/** Most doublings kept: jumps up to 2^53 - 1 draws. */
const MAX_POWER = 53;
let powers: BitMatrix[] | null = null;

/** M^(2^j), made on first use. */
export function power(j: number): BitMatrix {
  if (j >= MAX_POWER) throw new RangeError(`xoshiro jump: 2^${j} draws is beyond 2^${MAX_POWER}`);
  if (powers === null) {
    powers = [stepMatrix()];
    for (let i = 1; i < MAX_POWER; i++) powers.push(multiply(powers[i - 1]!, powers[i - 1]!));
  }
  return powers[j]!;
}

/** Advances `state` in place by n draws, as n calls of xoshiro128Next would. */
export function jump(state: Uint32Array, n: number): void {
  let s: Uint32Array = state;
  for (let j = 0, rest = n; rest > 0; j++, rest = Math.floor(rest / 2)) {
    if (rest % 2 === 1) s = applyMatrix(power(j), s);
  }
  state.set(s);
}
