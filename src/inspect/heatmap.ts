// Drawing attention maps (§3.2; Figures 3-5 of the paper draw attention between the tokens of a sentence):
// one heatmap per layer and head for encoder self-attention, masked decoder self-attention and
// encoder-decoder attention, rows = queries, columns = keys, with token labels on both axes. Two outputs: a
// self-contained HTML page (inline SVG with the cells as embedded PNG images, an inline script that shows a
// cell's weight under the pointer) and one PNG image (labels in the 5x7 ASCII font of font.ts).

import type { AttentionMaps } from './attention.js';
import { drawText, GLYPH, toAscii } from './font.js';
import { BLUES, weightColour, tokenLabel, type Rgb } from './palette.js';
import { encodePng, Raster } from './png.js';

export { tokenLabel } from './palette.js';

/** One kind of attention: where its maps are and which tokens label its rows (queries) and columns (keys). */
export interface AttentionKind {
  key: 'encoderSelf' | 'decoderSelf' | 'cross';
  title: string;
  axes: string;
  rows(maps: AttentionMaps): string[];
  cols(maps: AttentionMaps): string[];
}

/** The three kinds of attention in drawing order (§3.2.3). */
const ATTENTION_KINDS: readonly AttentionKind[] = [
  { key: 'encoderSelf', title: 'Encoder self-attention', axes: 'rows: source token (query), columns: source token (key)', rows: (m) => m.srcTokens, cols: (m) => m.srcTokens },
  { key: 'decoderSelf', title: 'Decoder self-attention (masked)', axes: 'rows: decoder input token (query), columns: decoder input token (key)', rows: (m) => m.tgtTokens, cols: (m) => m.tgtTokens },
  { key: 'cross', title: 'Encoder-decoder attention', axes: 'rows: decoder input token (query), columns: source token (key)', rows: (m) => m.tgtTokens, cols: (m) => m.srcTokens },
];

const INK: Rgb = [34, 34, 34];

/** Draws weights [i][j] as cell x cell squares, the top-left one at (x, y). */
function drawCells(image: Raster, x: number, y: number, weights: number[][], cell: number): void {
  weights.forEach((row, i) => row.forEach((w, j) => image.fillRect(x + j * cell, y + i * cell, cell, cell, weightColour(w))));
}

const HTML_CELL = 16;
const CHAR_PX = 7.3; // width of one character of the 12px monospace labels

/** Escapes text for HTML content and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One heatmap as a <figure>: an SVG with row and column labels around the cells (a PNG image). */
function htmlPanel(kind: AttentionKind, layer: number, head: number, weights: number[][], rows: string[], cols: string[]): string {
  const labelSize = (labels: string[]) => Math.ceil(Math.max(...labels.map((l) => [...l].length)) * CHAR_PX) + 8;
  const [left, top] = [labelSize(rows), labelSize(cols)];
  const cells = new Raster(cols.length * HTML_CELL, rows.length * HTML_CELL);
  drawCells(cells, 0, 0, weights, HTML_CELL);
  const png = Buffer.from(encodePng(cells)).toString('base64');
  const rowText = rows.map((l, i) => `<text x="${left - 4}" y="${top + (i + 0.5) * HTML_CELL}" text-anchor="end">${escapeHtml(l)}</text>`);
  const colText = cols.map((l, j) => `<text transform="translate(${left + (j + 0.5) * HTML_CELL},${top - 4}) rotate(-90)">${escapeHtml(l)}</text>`);
  return `<figure class="panel" data-kind="${kind.key}" data-layer="${layer}" data-head="${head}"><figcaption>layer ${layer + 1}, head ${head + 1}</figcaption>`
    + `<svg width="${left + cells.width}" height="${top + cells.height}">${rowText.join('')}${colText.join('')}`
    + `<image class="cells" x="${left}" y="${top}" width="${cells.width}" height="${cells.height}" href="data:image/png;base64,${png}"/></svg></figure>`;
}

const HTML_STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222}h2{margin:28px 0 4px}.axes{color:#666;margin:0 0 8px}
.grid{display:grid;gap:12px;align-items:end}.panel{margin:0}figcaption{font-size:12px;color:#444}
svg text{font:12px monospace;dominant-baseline:central}#tip{position:fixed;background:#222;color:#fff;padding:2px 6px;font:12px monospace;border-radius:3px;pointer-events:none}`;

const HTML_SCRIPT = `const data = JSON.parse(document.getElementById('maps').textContent);
const tip = document.getElementById('tip');
for (const img of document.querySelectorAll('image.cells')) {
  const { kind, layer, head } = img.closest('figure').dataset;
  const weights = data.weights[kind][layer][head], rows = data.rows[kind], cols = data.cols[kind];
  img.addEventListener('mousemove', (e) => {
    const r = img.getBoundingClientRect();
    const i = Math.min(rows.length - 1, Math.floor((e.clientY - r.top) / r.height * rows.length));
    const j = Math.min(cols.length - 1, Math.floor((e.clientX - r.left) / r.width * cols.length));
    tip.textContent = rows[i] + ' \\u2192 ' + cols[j] + ': ' + weights[i][j].toFixed(3);
    Object.assign(tip.style, { left: e.clientX + 12 + 'px', top: e.clientY + 12 + 'px' });
    tip.hidden = false;
  });
  img.addEventListener('mouseleave', () => { tip.hidden = true; });
}`;

/** The colour scale as an SVG gradient from weight 0 to 1. */
function htmlColourScale(): string {
  const stops = BLUES.map((c, k) => `<stop offset="${k / (BLUES.length - 1)}" stop-color="rgb(${c.join(',')})"/>`).join('');
  return `<svg width="260" height="34" role="img" aria-label="colour scale: attention weight 0 to 1"><defs><linearGradient id="scale">${stops}</linearGradient></defs>`
    + `<rect x="10" y="4" width="240" height="12" fill="url(#scale)" stroke="#999"/><text x="10" y="26" text-anchor="middle">0</text>`
    + `<text x="130" y="26" text-anchor="middle">0.5</text><text x="250" y="26" text-anchor="middle">1</text></svg>`;
}

/** A self-contained HTML page with every layer's and head's heatmap of the three kinds of attention. */
export function renderHtml(maps: AttentionMaps, source: string): string {
  const round = (w: number) => Math.round(w * 1e4) / 1e4;
  const data = { weights: {} as Record<string, number[][][][]>, rows: {} as Record<string, string[]>, cols: {} as Record<string, string[]> };
  const sections = ATTENTION_KINDS.map((kind) => {
    const [rows, cols] = [kind.rows(maps).map(tokenLabel), kind.cols(maps).map(tokenLabel)];
    data.weights[kind.key] = maps[kind.key].map((l) => l.map((h) => h.map((r) => r.map(round))));
    data.rows[kind.key] = rows;
    data.cols[kind.key] = cols;
    const panels = maps[kind.key].flatMap((heads, layer) => heads.map((w, head) => htmlPanel(kind, layer, head, w, rows, cols)));
    return `<section><h2>${kind.title}</h2><p class="axes">${kind.axes}; ${maps[kind.key].length} layers x ${maps.heads} heads; each row sums to 1</p>`
      + `<div class="grid" style="grid-template-columns:repeat(${maps.heads},max-content)">${panels.join('\n')}</div></section>`;
  });
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Attention: ${escapeHtml(source)}</title><style>${HTML_STYLE}</style></head><body>
<h1>Attention maps</h1><p><b>source</b> ${escapeHtml(source)}<br><b>target</b> ${escapeHtml(maps.translation)}</p>
<p>Attention weight, every layer and head:</p>${htmlColourScale()}
${sections.join('\n')}
<div id="tip" hidden></div><script type="application/json" id="maps">${json}</script><script>${HTML_SCRIPT}</script></body></html>\n`;
}

/** Sizes of the PNG layout, in pixels. */
const PNG_LAYOUT = { cell: 10, pad: 12, gap: 16, line: 12, maxLabel: 12, scaleWidth: 120 };

/** A token label in the PNG font: ASCII (see toAscii), at most maxLabel characters ('~' marks a cut). */
function pngLabel(token: string): string {
  const text = toAscii(tokenLabel(token));
  return text.length > PNG_LAYOUT.maxLabel ? text.slice(0, PNG_LAYOUT.maxLabel - 1) + '~' : text;
}

/** The heading of a kind in the PNG. */
function headingOf(kind: AttentionKind): string {
  return `${kind.title} (${kind.axes})`;
}

/** The caption of one panel in the PNG. */
function captionOf(layer: number, head: number): string {
  return `layer ${layer} head ${head}`;
}

/** Where renderPng draws one heatmap: the panel's top-left corner and its cells' top-left corner. */
export interface PanelBox { kind: AttentionKind['key']; layer: number; head: number; x: number; y: number; cellsX: number; cellsY: number; rows: number; cols: number; }

/** The PNG's size, the top of each kind's heading, and every panel's box. */
export interface PngLayout { width: number; height: number; headings: number[]; panels: PanelBox[]; }

/** Lays out renderPng's image: a header (sentence, colour scale), then per kind a heading and a layers x heads grid. */
export function pngLayout(maps: AttentionMaps): PngLayout {
  const { cell, pad, gap, line } = PNG_LAYOUT;
  const textWidth = (labels: string[]) => Math.max(...labels.map((l) => pngLabel(l).length)) * GLYPH.advance + 4;
  let y = pad + 3 * line + 8; // two lines of sentence, the colour scale
  let width = pad * 2 + Math.max(...ATTENTION_KINDS.map((k) => headingOf(k).length)) * GLYPH.advance;
  const headings: number[] = [];
  const panels: PanelBox[] = [];
  for (const kind of ATTENTION_KINDS) {
    const [rows, cols] = [kind.rows(maps), kind.cols(maps)];
    const [left, top] = [textWidth(rows), line + textWidth(cols)]; // caption line above the column labels
    const panelW = Math.max(left + cols.length * cell, (captionOf(maps[kind.key].length, maps.heads).length + 1) * GLYPH.advance);
    const panelH = top + rows.length * cell;
    headings.push(y);
    y += line + 4;
    maps[kind.key].forEach((heads, layer) => heads.forEach((_, head) => {
      const [x, py] = [pad + head * (panelW + gap), y + layer * (panelH + gap)];
      panels.push({ kind: kind.key, layer, head, x, y: py, cellsX: x + left, cellsY: py + top, rows: rows.length, cols: cols.length });
    }));
    y += maps[kind.key].length * (panelH + gap) + line;
    width = Math.max(width, pad * 2 + maps.heads * (panelW + gap) - gap);
  }
  return { width, height: y + pad, headings, panels };
}

/**
 * All heatmaps as one PNG. Labels are drawn in a 5x7 font of printable ASCII: accents are dropped (ä -> a),
 * ß becomes ss, the space mark U+2581 becomes '_', other characters '?', and labels over 12 characters are cut.
 */
export function renderPng(maps: AttentionMaps, source: string): Uint8Array {
  const { cell, pad, line, scaleWidth } = PNG_LAYOUT;
  const layout = pngLayout(maps);
  const image = new Raster(layout.width, layout.height);
  const fit = (text: string) => toAscii(text).slice(0, Math.floor((layout.width - 2 * pad) / GLYPH.advance));
  drawText(image, pad, pad, fit(`source: ${source}`), INK);
  drawText(image, pad, pad + line, fit(`target: ${maps.translation}`), INK);
  const scaleY = pad + 2 * line + 2;
  drawText(image, pad, scaleY, 'weight 0', INK);
  const scaleX = pad + 9 * GLYPH.advance;
  for (let k = 0; k < scaleWidth; k++) image.fillRect(scaleX + k, scaleY - 1, 1, GLYPH.height + 2, weightColour(k / (scaleWidth - 1)));
  drawText(image, scaleX + scaleWidth + 4, scaleY, '1', INK);
  ATTENTION_KINDS.forEach((kind, k) => {
    drawText(image, pad, layout.headings[k]!, headingOf(kind), INK);
    const [rows, cols] = [kind.rows(maps).map(pngLabel), kind.cols(maps).map(pngLabel)];
    for (const box of layout.panels.filter((p) => p.kind === kind.key)) {
      drawText(image, box.x, box.y, captionOf(box.layer + 1, box.head + 1), INK);
      rows.forEach((l, i) => drawText(image, box.cellsX - 3 - l.length * GLYPH.advance, box.cellsY + i * cell + 1, l, INK));
      cols.forEach((l, j) => drawText(image, box.cellsX + j * cell + 1, box.cellsY - 3, l, INK, 'up'));
      drawCells(image, box.cellsX, box.cellsY, maps[kind.key][box.layer]![box.head]!, cell);
    }
  });
  return encodePng(image);
}
