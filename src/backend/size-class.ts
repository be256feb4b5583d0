// Size classes of the buffer pools (host and device): a request for n elements is served by a buffer of
// sizeClass(n) elements, so batches of varying shape still reuse each other's buffers.

/** n itself when small, else n rounded up to a quarter of its power of two (at most 25% slack). */
export function sizeClass(n: number): number {
  if (n <= 4096) return n;
  const step = 2 ** Math.floor(Math.log2(n)) / 4;
  return Math.ceil(n / step) * step;
}
