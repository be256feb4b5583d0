// Log-log line charts as inline SVG (no scripts), for the experiments' quantities that span decades, such as
// the time per layer against sequence length n of Table 1 (§4). train/curves.ts draws linear axes labelled
// only at their ends; this chart puts ticks at powers of 2 (x) and 10 (y) and draws vertical markers.

import { escapeXml, FONT_FAMILY } from '../io/svg.js';
import type { Series } from '../train/curves.js';

/** A dashed vertical line at x with a label (e.g. n = d). */
export interface Marker { x: number; label: string; }

/** What logLogChart draws. */
export interface LogLogChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  markers?: readonly Marker[];
  width?: number;
  height?: number;
}

/** Powers of `base` from base^lo to base^hi. */
function powers(base: number, lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo + 1 }, (_, i) => Math.pow(base, lo + i));
}

/** A tick label: integers as they are, small values without trailing noise. */
function tickLabel(v: number): string {
  return v >= 1 ? String(Math.round(v)) : String(Number(v.toPrecision(1)));
}

/**
 * An SVG chart with log2 x and log10 y axes spanning whole powers around the positive data and markers, one
 * `<path class="series">` per series and one `<line class="marker">` per marker.
 */
export function logLogChart(opts: LogLogChartOptions): string {
  const { title, xLabel, yLabel, series, markers = [], width = 720, height = 420 } = opts;
  const pad = { l: 64, r: 24, t: 44, b: 48 };
  const points = series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y));
  if (points.length === 0) throw new Error(`logLogChart: '${title}' has no positive, finite points`);
  const xs = [...points.map((p) => p[0]), ...markers.map((m) => m.x)];
  const ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.floor(Math.log2(Math.min(...xs))), Math.ceil(Math.log2(Math.max(...xs)))];
  const [y0, y1] = [Math.floor(Math.log10(Math.min(...ys))), Math.ceil(Math.log10(Math.max(...ys)))];
  const sx = (x: number) => pad.l + ((Math.log2(x) - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const sy = (y: number) => height - pad.b - ((Math.log10(y) - y0) / (y1 - y0 || 1)) * (height - pad.t - pad.b);
  const [left, right, top, bottom] = [pad.l, width - pad.r, pad.t, height - pad.b];
  const xTicks = powers(2, x0, x1).map((x) => `<line x1="${sx(x).toFixed(1)}" y1="${top}" x2="${sx(x).toFixed(1)}" y2="${bottom}" stroke="#eee"/>` +
    `<text x="${sx(x).toFixed(1)}" y="${bottom + 16}" font-size="11" text-anchor="middle">${tickLabel(x)}</text>`);
  const yTicks = powers(10, y0, y1).map((y) => `<line x1="${left}" y1="${sy(y).toFixed(1)}" x2="${right}" y2="${sy(y).toFixed(1)}" stroke="#eee"/>` +
    `<text x="${left - 6}" y="${(sy(y) + 4).toFixed(1)}" font-size="11" text-anchor="end">${tickLabel(y)}</text>`);
  const axes = `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#888"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#888"/>` +
    `<text x="${(left + right) / 2}" y="${height - 10}" font-size="12" text-anchor="middle">${escapeXml(xLabel)}</text>` +
    `<text x="14" y="${(top + bottom) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(top + bottom) / 2})">${escapeXml(yLabel)}</text>`;
  const markerLines = markers.map((m) => `<line class="marker" x1="${sx(m.x).toFixed(1)}" y1="${top}" x2="${sx(m.x).toFixed(1)}" y2="${bottom}" stroke="#555" stroke-dasharray="5,4"/>` +
    `<text x="${(sx(m.x) + 4).toFixed(1)}" y="${top + 12}" font-size="11">${escapeXml(m.label)}</text>`);
  const paths = series.map((s) => {
    const d = s.points.filter(([x, y]) => x > 0 && y > 0).map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    return `<path class="series" d="${d}" fill="none" stroke="${s.color}" stroke-width="2"><title>${escapeXml(s.name)}</title></path>`;
  });
  const legend = series.map((s, i) => `<text x="${left + 8 + i * 150}" y="${top - 10}" fill="${s.color}" font-size="12">${escapeXml(s.name)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT_FAMILY}">` +
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="14">${escapeXml(title)}</text>` +
    `${xTicks.join('')}${yTicks.join('')}${axes}${markerLines.join('')}${paths.join('')}${legend.join('')}</svg>`;
}
