// Reductions of the TypeScript backend over the middle axis of [outer, n, inner].

import type { ReduceOp } from '../host/kernels.js';

/** Sum, max or sum of squares (each square rounded to float32) over n; sums accumulate in float64. */
export function reduce(op: ReduceOp, x: Float32Array, outer: number, n: number, inner: number, out: Float32Array): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let p = o * n * inner + i;
      let acc = op === 'max' ? -Infinity : 0;
      for (let j = 0; j < n; j++, p += inner) {
        const v = x[p]!;
        if (op === 'sum') acc += v;
        else if (op === 'sumSquares') acc += Math.fround(v * v); // each square in float32, as torch's norm takes it
        else if (v > acc || Number.isNaN(v)) acc = v;
      }
      out[o * inner + i] = acc;
    }
  }
}

/** Index of the first maximum over n. */
export function argmax(x: Float32Array, outer: number, n: number, inner: number, out: Int32Array): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let p = o * n * inner + i;
      let best = -Infinity;
      let at = 0;
      for (let j = 0; j < n; j++, p += inner) {
        const v = x[p]!;
        if (v > best) { best = v; at = j; }
      }
      out[o * inner + i] = at;
    }
  }
}
