// A seeded random number generator (xoshiro128**), so dropout masks and initialisations are reproducible.

import { xoshiro128Next } from '../backend/xoshiro.js';

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
  nextUint32(): number { return xoshiro128Next(this.s); }

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

  /**
   * The live 4-word xoshiro128** state (not a copy), for kernels that draw uniforms exactly as uniform() does and
   * advance it in place (Backend.dropout). Such draws leave the spare normal of normal() untouched, as uniform() does.
   */
  rawState(): Uint32Array { return this.s; }

  /** The internal state, for checkpoints. */
  state(): number[] { return [...this.s, ...(this.spare === null ? [] : [this.spare])]; }

  /** Restores a state from state(). */
  setState(state: readonly number[]): void {
    for (let i = 0; i < 4; i++) this.s[i] = state[i]! >>> 0;
    this.spare = state.length > 4 ? state[4]! : null;
  }
}

/** The global generator used when no Rng is passed. */
export const globalRng = new Rng(0);

/** Seeds the global generator. */
export function manualSeed(seed: number): void {
  globalRng.seed(seed);
}
