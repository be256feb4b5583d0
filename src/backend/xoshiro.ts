// The xoshiro128** generator step (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2021),
// shared by Rng (src/tensor/random.ts) and the dropout kernels so that both draw the same stream.

/** Advances the 4-word xoshiro128** state `s` in place and returns the next 32 random bits. */
export function xoshiro128Next(s: Uint32Array): number {
  const s1 = s[1]!;
  const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
  const t = (s1 << 9) >>> 0;
  s[2]! ^= s[0]!; s[3]! ^= s1; s[1]! ^= s[2]!; s[0]! ^= s[3]!;
  s[2]! ^= t;
  s[3] = rotl(s[3]!, 11);
  return result;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
