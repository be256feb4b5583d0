// The positional-encoding section of the page (§3.5): the sinusoidal table PE(pos, 2i) = sin(pos / 10000^(2i/d)),
// PE(pos, 2i+1) = cos(...) as a heatmap of its sin/cos columns; the dot-product similarity between positions;
// and the linear-offset property the paper chose it for: PE(pos + k) = M_k PE(pos), with M_k built explicitly as
// block-diagonal 2x2 rotations and the largest deviation over all shown positions reported.

import { offsetMatrix, sinusoidalTable } from '../../src/nn/positional.js';
import { divergingColour, drawHeatmap } from './heatmap-view.js';

/** How many positions the views show. */
export const POSITIONS = 50;
/** How many rows and columns of M_k are drawn (its first 2x2 blocks). */
const MK_SHOWN = 16;

/** The elements the view fills. */
export interface PositionalElements { table: HTMLElement; similarity: HTMLElement; k: HTMLInputElement; matrix: HTMLElement; error: HTMLElement; }

/** Rows of a row-major [rows, cols] array. */
function rowsOf(flat: Float64Array, rows: number, cols: number): Float64Array[] {
  return Array.from({ length: rows }, (_, r) => flat.subarray(r * cols, (r + 1) * cols));
}

/** max over pos < positions and every dimension of |PE(pos + k) - M_k PE(pos)|, with M_k from offsetMatrix. */
export function offsetError(k: number, dModel: number, positions: number): number {
  const pe = sinusoidalTable(positions + k, dModel); // [positions + k, d]
  const m = offsetMatrix(k, dModel); // [d, d]
  let max = 0;
  for (let pos = 0; pos < positions; pos++) {
    for (let r = 0; r < dModel; r++) {
      let shifted = 0;
      for (let c = 0; c < dModel; c++) shifted += m[r * dModel + c]! * pe[pos * dModel + c]!;
      max = Math.max(max, Math.abs(pe[(pos + k) * dModel + r]! - shifted));
    }
  }
  return max;
}

/** Draws the table and the similarity for d_model, and the M_k check for the k in the input (redrawn on change). */
export function showPositional(els: PositionalElements, dModel: number): void {
  const pe = sinusoidalTable(POSITIONS, dModel); // [POSITIONS, d]
  drawHeatmap(els.table, {
    values: rowsOf(pe, POSITIONS, dModel), colour: divergingColour, cellWidth: Math.max(1, Math.floor(640 / dModel)), cellHeight: 4,
    caption: `PE for positions 0..${POSITIONS - 1} (rows) and d_model = ${dModel} dimensions (columns: sin, cos, sin, cos, ...)`,
    describe: (pos, dim, v) => `PE(${pos}, ${dim}) = ${dim % 2 === 0 ? 'sin' : 'cos'}(${pos} / 10000^(${dim - (dim % 2)}/${dModel})) = ${v.toFixed(4)}`,
  });

  // PE(p) . PE(q) / (d/2): every PE row has squared norm d/2, so this is the cosine similarity, in [-1, 1].
  const similarity = Array.from({ length: POSITIONS }, (_, p) => Float64Array.from({ length: POSITIONS }, (_, q) => {
    let dot = 0;
    for (let c = 0; c < dModel; c++) dot += pe[p * dModel + c]! * pe[q * dModel + c]!;
    return dot / (dModel / 2);
  }));
  drawHeatmap(els.similarity, {
    values: similarity, colour: divergingColour, cellWidth: 6, cellHeight: 6,
    caption: 'PE(p) \u00b7 PE(q) / (d_model / 2) for positions p (rows) and q (columns): it depends only on p - q',
    describe: (p, q, v) => `PE(${p}) \u00b7 PE(${q}) / (d/2) = ${v.toFixed(4)}`,
  });

  const update = (): void => {
    const k = Math.max(0, Math.floor(Number(els.k.value) || 0));
    const m = offsetMatrix(k, dModel);
    const shown = Math.min(MK_SHOWN, dModel);
    drawHeatmap(els.matrix, {
      values: Array.from({ length: shown }, (_, r) => m.subarray(r * dModel, r * dModel + shown)), colour: divergingColour, cellWidth: 16, cellHeight: 16,
      caption: `M_${k}, rows and columns 0..${shown - 1} of ${dModel}: block i = [[cos(k w_i), sin(k w_i)], [-sin(k w_i), cos(k w_i)]]`,
      describe: (r, c, v) => `M_${k}[${r}][${c}] = ${v.toFixed(4)}`,
    });
    const error = offsetError(k, dModel, POSITIONS);
    els.error.dataset['value'] = String(error);
    els.error.textContent = `max |PE(pos + ${k}) \u2212 M_${k} PE(pos)| over pos 0..${POSITIONS - 1} and all ${dModel} dimensions = ${error.toExponential(2)}`;
  };
  els.k.addEventListener('input', update);
  update();
}
