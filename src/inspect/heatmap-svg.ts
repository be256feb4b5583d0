// One SVG description of an attention heatmap (§3.2; the paper's Figures 3-5 draw attention between the
// tokens of a sentence): rows = queries, columns = keys, token labels on both axes, the cells as an embedded
// 1-pixel-per-cell PNG scaled up. The HTML page shows these SVGs as they are; the PNG is one SVG of all the
// panels rasterized by src/io/rasterize.ts, so both show the same labels.

import { escapeXml, textWidth } from '../io/svg.js';
import type { AttentionMaps } from './attention.js';
import { axisLabel, BLUES, weightColour, type AttentionKind } from './palette.js';
import { encodePng, Raster } from './png.js';

/** Sizes in px: a cell's side, label and caption font sizes, gaps. */
const HEATMAP_STYLE = { cell: 14, font: 11, caption: 12, gap: 4 } as const;

/** Which maps to draw: 0-based layer and head, all when undefined. */
export interface MapSelection { layer?: number; head?: number; }

/** One map to draw: its kind, layer and head (0-based) and weights [query i][key j]. */
export interface Panel { kind: AttentionKind; layer: number; head: number; weights: number[][]; }

/** The panels of one kind that the selection keeps, layer by layer, head by head. */
export function selectedPanels(maps: AttentionMaps, kind: AttentionKind, selection: MapSelection = {}): Panel[] {
  return maps[kind.key].flatMap((heads, layer) => heads.map((weights, head) => ({ kind, layer, head, weights })))
    .filter((p) => (selection.layer ?? p.layer) === p.layer && (selection.head ?? p.head) === p.head);
}

/** A drawn panel: its SVG content (origin at its top-left corner) and its size in px. */
export interface PanelSvg { body: string; width: number; height: number; }

/** The weights as a PNG data URL with one pixel per cell, coloured by weightColour. */
function cellsImage(weights: number[][]): string {
  const image = new Raster(weights[0]!.length, weights.length);
  weights.forEach((row, i) => row.forEach((w, j) => image.setPixel(j, i, weightColour(w))));
  return `data:image/png;base64,${Buffer.from(encodePng(image)).toString('base64')}`;
}

/** One heatmap: a caption, row labels right-aligned left of the cells, column labels reading upwards above them. */
export function panelSvg(maps: AttentionMaps, panel: Panel): PanelSvg {
  const { cell, font, caption, gap } = HEATMAP_STYLE;
  const [rows, cols] = [panel.kind.rows(maps).map(axisLabel), panel.kind.cols(maps).map(axisLabel)];
  const title = `layer ${panel.layer + 1}, head ${panel.head + 1}`;
  const longest = (labels: string[]) => Math.max(0, ...labels.map((l) => textWidth(l, font)));
  const [left, top] = [longest(rows) + gap, caption + gap + longest(cols) + gap];
  const baseline = Math.round(font * 0.35); // from a row's middle to the baseline of its label
  const rowText = rows.map((l, i) => `<text x="${left - gap}" y="${top + (i + 0.5) * cell + baseline}" text-anchor="end">${escapeXml(l)}</text>`);
  const colText = cols.map((l, j) => `<text transform="translate(${left + (j + 0.5) * cell + baseline},${top - gap}) rotate(-90)">${escapeXml(l)}</text>`);
  const [w, h] = [cols.length * cell, rows.length * cell];
  const body = `<text class="caption" x="0" y="${caption}" font-size="${caption}" fill="#444">${title}</text><g font-size="${font}" fill="#222">${rowText.join('')}${colText.join('')}</g>`
    + `<image class="cells" x="${left}" y="${top}" width="${w}" height="${h}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${cellsImage(panel.weights)}"/>`;
  return { body, width: Math.max(left + w, textWidth(title, caption)), height: top + h };
}

/** The colour scale, weight 0 to 1, as SVG content 260 x 34 px. */
export function colourScaleSvg(): string {
  const stops = BLUES.map((c, k) => `<stop offset="${k / (BLUES.length - 1)}" stop-color="rgb(${c.join(',')})"/>`).join('');
  return `<defs><linearGradient id="scale">${stops}</linearGradient></defs><rect x="10" y="4" width="240" height="12" fill="url(#scale)" stroke="#999"/>`
    + `<g font-size="12" text-anchor="middle"><text x="10" y="30">0</text><text x="130" y="30">0.5</text><text x="250" y="30">1</text></g>`;
}
