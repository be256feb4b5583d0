import { sinusoidalTable, offsetMatrix } from 'aiayn';

// §3.5: PE(pos + k) = M_k PE(pos), with M_k block-diagonal (2x2 rotations) and the same for every pos.
const matVec = (m, v, d) => Array.from({ length: d }, (_, r) => v.reduce((acc, vc, c) => acc + m[r * d + c] * vc, 0));
const frequency = (i, d) => Math.pow(10000, (-2 * i) / d); // w_i
const dot = (a, b) => a.reduce((acc, ai, i) => acc + ai * b[i], 0);

// M_3 for d_model = 4: two rotation blocks, by 3 w_0 = 3 rad and 3 w_1 = 0.03 rad.
const m3 = offsetMatrix(3, 4);
console.log('M_3 (d_model = 4):');
for (let r = 0; r < 4; r++) console.log('  [' + Array.from(m3.slice(r * 4, r * 4 + 4), (v) => v.toFixed(4).padStart(7)).join(' ') + ' ]');

// d_model = 512 over 1000 positions: one M_k maps every PE(pos) to PE(pos + k); M_k M_k^T = I.
const d = 512;
const maxLen = 1000;
const pe = sinusoidalTable(maxLen, d);
const row = (pos) => Array.from(pe.subarray(pos * d, (pos + 1) * d));
for (const k of [1, 7, 100]) {
  const m = offsetMatrix(k, d);
  let shiftError = 0;
  for (let pos = 0; pos + k < maxLen; pos += 37) {
    const mapped = matVec(m, row(pos), d);
    shiftError = Math.max(shiftError, ...mapped.map((v, i) => Math.abs(v - pe[(pos + k) * d + i])));
  }
  let orthoError = 0;
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) {
    let acc = 0;
    for (let j = 0; j < d; j++) acc += m[r * d + j] * m[c * d + j];
    orthoError = Math.max(orthoError, Math.abs(acc - (r === c ? 1 : 0)));
  }
  console.log(`k = ${k}: max |M_k PE(pos) - PE(pos+k)| = ${shiftError.toExponential(2)}, max |M_k M_k^T - I| = ${orthoError.toExponential(2)}`);
}

// PE(p) . PE(p + k) depends on k only: sum_i cos(w_i k).
for (const k of [1, 5, 50]) {
  const dots = [0, 100, 500].map((p) => dot(row(p), row(p + k)).toFixed(6));
  let closedForm = 0;
  for (let i = 0; i < d / 2; i++) closedForm += Math.cos(frequency(i, d) * k);
  console.log(`k = ${k}: PE(p).PE(p+k) for p = 0, 100, 500: ${dots.join(', ')}; sum_i cos(w_i k) = ${closedForm.toFixed(6)}`);
}

// A fixed linear map on the query side makes attention look k positions ahead: score(p, p') = (M_k PE(p)) . PE(p').
const p = 10;
const k = 3;
const query = matVec(offsetMatrix(k, d), row(p), d);
const scores = Array.from({ length: 21 }, (_, q) => dot(query, row(q)));
const best = scores.indexOf(Math.max(...scores));
console.log(`query M_${k} PE(${p}) against keys PE(0..20): highest score ${scores[best].toFixed(2)} (= d/2) at p' = ${best}; next best ${[...scores].sort((a, b) => b - a)[1].toFixed(2)}`);
