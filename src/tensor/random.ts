// A seeded random number generator (xoshiro128**), so dropout masks and initialisations are reproducible.

/** A small, fast, seedable generator of uniform floats in [0, 1) and normals. */
export class Rng {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed = 0) { this.seed(seed); }

  /** Resets the state from a 32-bit seed (splitmix32 expansion). */
  seed(seed: number): void {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    this.spare = null;
  }

  /** The next 32 random bits. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!; s[3]! ^= s[1]!; s[1]! ^= s[2]!; s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A uniform float in [0, 1). */
  uniform(): number { return this.nextUint32() / 4294967296; }

  /** A standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) { const v = this.spare; this.spare = null; return v; }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, n). */
  int(n: number): number { return Math.floor(this.uniform() * n); }

  /** The internal state, for checkpoints. */
  state(): number[] { return [...this.s, ...(this.spare === null ? [] : [this.spare])]; }

  /** Restores a state from state(). */
  setState(state: readonly number[]): void {
    for (let i = 0; i < 4; i++) this.s[i] = state[i]! >>> 0;
    this.spare = state.length > 4 ? state[4]! : null;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The global generator used when no Rng is passed. */
export const globalRng = new Rng(0);

/** Seeds the global generator. */
export function manualSeed(seed: number): void {
  globalRng.seed(seed);
}
