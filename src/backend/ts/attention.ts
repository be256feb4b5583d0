// Scaled dot-product attention kernels over head-packed projections (eq. 1, §3.2.1): the weights, and every
// gradient at once. Plain loops in float64; the oracle of native/attention.cc.

import type { AttentionBackwardArgs, AttentionScoresArgs, HeadPacked } from '../host/kernels.js';

/** Index of element j of head `head` of row `row` of a head-packed projection with heads of d values. */
function at(x: HeadPacked, row: number, head: number, d: number, j: number): number {
  return x.offset + row * x.rowStride + x.col + head * d + j;
}

/** See Backend.attentionScores. */
export function attentionScores(a: AttentionScoresArgs): void {
  const { batch, heads, tq, tk, dK, scale, q, k, mask, probs } = a;
  const z = new Float64Array(tk);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < tq; i++) {
        const row = ((b * heads + h) * tq + i) * tk;
        let mx = -Infinity;
        for (let j = 0; j < tk; j++) {
          let s = 0;
          for (let p = 0; p < dK; p++) s += q.data[at(q, b * tq + i, h, dK, p)]! * k.data[at(k, b * tk + j, h, dK, p)]!;
          const m = mask === null ? 0 : mask.data[mask.offset + b * mask.strides[0]! + h * mask.strides[1]! + i * mask.strides[2]! + j * mask.strides[3]!]!;
          z[j] = scale * Math.fround(s) + m;
          if (z[j]! > mx) mx = z[j]!;
        }
        if (mx === -Infinity) mx = 0; // every key masked: the row sums to 0 and gives NaNs, as softmax does
        let sum = 0;
        for (let j = 0; j < tk; j++) sum += Math.exp(z[j]! - mx);
        for (let j = 0; j < tk; j++) probs[row + j] = Math.exp(z[j]! - mx) / sum;
      }
    }
  }
}

/** See Backend.attentionBackward. */
export function attentionBackward(a: AttentionBackwardArgs): void {
  const { batch, heads, tq, tk, dK, dV, scale, q, k, v, probs, dOut, dq, dk, dv } = a;
  const keep = a.dropout === null ? 1 : Math.fround(1 / (1 - a.dropout.p));
  const dp = new Float64Array(tk);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < tk; j++) {
        for (let p = 0; p < dK; p++) dk.data[at(dk, b * tk + j, h, dK, p)] = 0;
        for (let p = 0; p < dV; p++) dv.data[at(dv, b * tk + j, h, dV, p)] = 0;
      }
      for (let i = 0; i < tq; i++) {
        const row = ((b * heads + h) * tq + i) * tk;
        const gOut = (b * tq + i) * heads * dV + h * dV; // dOut row of (b, i), head h
        let dot = 0;
        for (let j = 0; j < tk; j++) {
          const e = row + j;
          const kept = a.dropout === null ? keep : ((a.dropout.keepBits[e >> 5]! >>> (e & 31)) & 1) * keep;
          let g = 0;
          for (let p = 0; p < dV; p++) g += dOut[gOut + p]! * v.data[at(v, b * tk + j, h, dV, p)]!;
          dp[j] = g * kept; // through dropout
          dot += probs[e]! * dp[j]!;
          const pd = probs[e]! * kept; // the dropped weight the forward multiplied V by
          for (let p = 0; p < dV; p++) dv.data[at(dv, b * tk + j, h, dV, p)]! += pd * dOut[gOut + p]!;
        }
        for (let p = 0; p < dK; p++) dq.data[at(dq, b * tq + i, h, dK, p)] = 0;
        for (let j = 0; j < tk; j++) {
          const ds = scale * probs[row + j]! * (dp[j]! - dot); // softmax backward, then the score's scale
          if (ds === 0) continue;
          for (let p = 0; p < dK; p++) {
            dq.data[at(dq, b * tq + i, h, dK, p)]! += ds * k.data[at(k, b * tk + j, h, dK, p)]!;
            dk.data[at(dk, b * tk + j, h, dK, p)]! += ds * q.data[at(q, b * tq + i, h, dK, p)]!;
          }
        }
      }
    }
  }
}
