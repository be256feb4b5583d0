// Drawing attention maps (§3.2; Figures 3-5 of the paper draw attention between the tokens of a sentence):
// one heatmap per layer and head for encoder self-attention, masked decoder self-attention and
// encoder-decoder attention, each the SVG of heatmap-svg.ts. Two outputs: a self-contained HTML page (the
// panels' SVGs, an inline script that shows a cell's weight under the pointer) and one PNG (all panels in one
// SVG, rasterized with the bundled fonts by src/io/rasterize.ts).

import { svgToPng, type RasterizeOptions } from '../io/rasterize.js';
import { escapeXml, FONT_FAMILY, svgDocument, textWidth } from '../io/svg.js';
import type { AttentionMaps } from './attention.js';
import { colourScaleSvg, panelSvg, selectedPanels, type MapSelection } from './heatmap-svg.js';
import { ATTENTION_KINDS, tokenLabel } from './palette.js';

export { tokenLabel } from './palette.js';

const HTML_STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222}h2{margin:28px 0 4px}.axes{color:#666;margin:0 0 8px}
.grid{display:grid;gap:12px;align-items:end}.panel{margin:0}#tip{position:fixed;background:#222;color:#fff;padding:2px 6px;font:12px sans-serif;border-radius:3px;pointer-events:none}`;

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

/** An SVG element of the given size around content, in the pictures' fonts. */
function inlineSvg(width: number, height: number, body: string, label = ''): string {
  return `<svg width="${width}" height="${height}" font-family="${FONT_FAMILY}"${label && ` role="img" aria-label="${label}"`}>${body}</svg>`;
}

/** A self-contained HTML page with the selected layers' and heads' heatmaps of the three kinds of attention. */
export function renderHtml(maps: AttentionMaps, source: string, selection: MapSelection = {}): string {
  const round = (w: number) => Math.round(w * 1e4) / 1e4;
  const data = { weights: {} as Record<string, number[][][][]>, rows: {} as Record<string, string[]>, cols: {} as Record<string, string[]> };
  const sections = ATTENTION_KINDS.map((kind) => {
    data.weights[kind.key] = maps[kind.key].map((l) => l.map((h) => h.map((r) => r.map(round))));
    data.rows[kind.key] = kind.rows(maps).map(tokenLabel); // the pointer readout shows whole tokens
    data.cols[kind.key] = kind.cols(maps).map(tokenLabel);
    const panels = selectedPanels(maps, kind, selection).map((p) => {
      const { body, width, height } = panelSvg(maps, p);
      return `<figure class="panel" data-kind="${kind.key}" data-layer="${p.layer}" data-head="${p.head}">${inlineSvg(width, height, body)}</figure>`;
    });
    const heads = selection.head === undefined ? maps.heads : 1;
    return `<section><h2>${kind.title}</h2><p class="axes">${kind.axes}; ${maps[kind.key].length} layers x ${maps.heads} heads; each row sums to 1</p>`
      + `<div class="grid" style="grid-template-columns:repeat(${heads},max-content)">${panels.join('\n')}</div></section>`;
  });
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Attention: ${escapeXml(source)}</title><style>${HTML_STYLE}</style></head><body>
<h1>Attention maps</h1><p><b>source</b> ${escapeXml(source)}<br><b>target</b> ${escapeXml(maps.translation)}</p>
<p>Attention weight, every layer and head:</p>${inlineSvg(260, 34, colourScaleSvg(), 'colour scale: attention weight 0 to 1')}
${sections.join('\n')}
<div id="tip" hidden></div><script type="application/json" id="maps">${json}</script><script>${HTML_SCRIPT}</script></body></html>\n`;
}

/** Sizes of the PNG layout, in px. */
const PNG_LAYOUT = { pad: 16, gap: 20, line: 20 } as const;

/** The most pixels renderPng draws (about 7000 x 7000); more asks for --layer or --head. */
export const MAX_PNG_PIXELS = 50_000_000;

/** The selected panels of all three kinds as one SVG document: the sentence, the colour scale, then per kind a heading and a layers x heads grid. */
export function heatmapSvg(maps: AttentionMaps, source: string, selection: MapSelection = {}): { svg: string; width: number; height: number } {
  const { pad, gap, line } = PNG_LAYOUT;
  const header = [`source: ${source}`, `target: ${maps.translation}`];
  const parts = header.map((t, k) => `<text x="${pad}" y="${pad + (k + 0.75) * line}" font-size="13">${escapeXml(t)}</text>`);
  parts.push(`<g transform="translate(${pad - 10},${pad + 2 * line + 4})">${colourScaleSvg()}</g>`);
  let width = Math.max(...header.map((t) => textWidth(t, 13)), 260);
  let y = pad + 2 * line + 50;
  for (const kind of ATTENTION_KINDS) {
    const drawn = selectedPanels(maps, kind, selection).map((p) => ({ p, svg: panelSvg(maps, p) }));
    if (drawn.length === 0) continue; // --layer past this kind's layers
    const heading = `${kind.title} (${kind.axes})`;
    parts.push(`<text x="${pad}" y="${y + 0.75 * line}" font-size="14">${escapeXml(heading)}</text>`);
    width = Math.max(width, textWidth(heading, 14));
    y += line + 8;
    const [panelW, panelH] = [Math.max(...drawn.map((d) => d.svg.width)), Math.max(...drawn.map((d) => d.svg.height))];
    const layers = [...new Set(drawn.map((d) => d.p.layer))];
    const heads = [...new Set(drawn.map((d) => d.p.head))];
    for (const { p, svg } of drawn) {
      const [x, py] = [pad + heads.indexOf(p.head) * (panelW + gap), y + layers.indexOf(p.layer) * (panelH + gap)];
      parts.push(`<g transform="translate(${x},${py})">${svg.body}</g>`);
    }
    width = Math.max(width, heads.length * (panelW + gap) - gap);
    y += layers.length * (panelH + gap) + line;
  }
  const [w, h] = [width + 2 * pad, y + pad];
  return { svg: svgDocument(w, h, parts.join('')), width: w, height: h };
}

/** Options of renderPng: which maps, the pixel limit (default MAX_PNG_PIXELS), and the renderer (tests). */
export interface RenderPngOptions extends MapSelection, RasterizeOptions { maxPixels?: number; }

/** The selected heatmaps as one PNG, labels as written (bundled fonts); refuses a picture over maxPixels. */
export function renderPng(maps: AttentionMaps, source: string, options: RenderPngOptions = {}): Uint8Array {
  const { svg, width, height } = heatmapSvg(maps, source, options);
  const limit = options.maxPixels ?? MAX_PNG_PIXELS;
  if (width * height > limit) {
    throw new Error(`the PNG would be ${width} x ${height} pixels (${(width * height / 1e6).toFixed(1)} megapixels), more than the limit of ${limit / 1e6} megapixels: `
      + `draw fewer maps with --layer N and --head N, or write .html`);
  }
  return svgToPng(svg, options);
}
