// Seeded random inputs for the kernel tests (backend parity, WebGPU kernels): the same stream on every run.

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let r = Math.imul(s ^ (s >>> 15), 1 | s);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator `rand` with array makers on it: floats in [lo, hi) (quantised to `steps` levels so ties occur) and ints. */
export function randomArrays(seed: number): { rand: () => number; randn: (n: number, lo?: number, hi?: number, steps?: number) => Float32Array; randi: (n: number, hi: number) => Int32Array } {
  const rand = mulberry32(seed);
  const randn = (n: number, lo = -2, hi = 2, steps = 0): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = rand();
      a[i] = lo + (hi - lo) * (steps > 0 ? Math.floor(u * steps) / steps : u);
    }
    return a;
  };
  const randi = (n: number, hi: number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(rand() * hi));
  return { rand, randn, randi };
}
