// Training curves as SVG: in a self-contained HTML page (no scripts, opens anywhere), and as one SVG document
// that src/io/rasterize.ts turns into curves.png.

import { join } from 'node:path';
import { writeFileAtomic } from '../data/files.js';
import { svgToPng } from '../io/rasterize.js';
import { escapeXml, FONT_FAMILY, svgDocument } from '../io/svg.js';

/** One plotted series: name, colour and (x, y) points. */
export interface Series { name: string; color: string; points: Array<[number, number]>; }

/** An SVG line chart of the series, with axes labelled by their ranges. */
export function lineChart(title: string, xLabel: string, series: readonly Series[], width = 640, height = 280): string {
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const pad = { l: 56, r: 16, t: 28, b: 36 };
  if (pts.length === 0) return `<svg width="${width}" height="${height}" font-family="${FONT_FAMILY}"><text x="${pad.l}" y="${height / 2}">${escapeXml(title)}: no data yet</text></svg>`;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const sy = (y: number) => height - pad.b - ((y - y0) / (y1 - y0 || 1)) * (height - pad.t - pad.b);
  const lines = series.map((s) => {
    const finite = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const d = finite.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    const dot = finite.length === 1 ? `<circle cx="${sx(finite[0]![0]).toFixed(1)}" cy="${sy(finite[0]![1]).toFixed(1)}" r="3" fill="${s.color}"/>` : ''; // a lone point (the first evaluation) draws no line
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"><title>${escapeXml(s.name)}</title></path>${dot}`;
  }).join('');
  const legend = series.map((s, i) => `<text x="${pad.l + 8 + i * 120}" y="${pad.t - 10}" fill="${s.color}" font-size="12">${escapeXml(s.name)}</text>`).join('');
  const axes = `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="#888"/>` +
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}" stroke="#888"/>` +
    `<text x="${pad.l}" y="${height - 8}" font-size="11">${x0}</text><text x="${width - pad.r}" y="${height - 8}" font-size="11" text-anchor="end">${x1} ${escapeXml(xLabel)}</text>` +
    `<text x="${pad.l - 6}" y="${height - pad.b}" font-size="11" text-anchor="end">${y0.toPrecision(3)}</text>` +
    `<text x="${pad.l - 6}" y="${pad.t + 4}" font-size="11" text-anchor="end">${y1.toPrecision(3)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT_FAMILY}"><text x="${width / 2}" y="14" text-anchor="middle" font-size="13">${escapeXml(title)}</text>${legend}${axes}${lines}</svg>`;
}

/** The page with the loss and BLEU (or `secondTitle`) charts. */
export function curvesPage(title: string, loss: readonly Series[], bleu: readonly Series[], secondTitle = 'validation BLEU'): string {
  return `<!doctype html><meta charset="utf-8"><title>${escapeXml(title)}</title><body style="font-family:sans-serif">` +
    `<h1 style="font-size:18px">${escapeXml(title)}</h1>${lineChart('loss', 'steps', loss)}<br>${lineChart(secondTitle, 'steps', bleu)}</body>\n`;
}

/** The same two charts under the title, as one SVG document 640 x 620 px (for curves.png). */
export function curvesSvg(title: string, loss: readonly Series[], bleu: readonly Series[], secondTitle = 'validation BLEU'): string {
  return svgDocument(640, 620, `<text x="8" y="24" font-size="18">${escapeXml(title)}</text>`
    + `<g transform="translate(0,36)">${lineChart('loss', 'steps', loss)}</g><g transform="translate(0,332)">${lineChart(secondTitle, 'steps', bleu)}</g>`);
}

/** What a training loop's curves show: the page title, how many training losses one point averages, and the
 * metric of the second chart (a log key, its series name and the chart's title). */
export interface CurvesSpec { title: string; smoothOver: number; second: { key: string; name: string; chart: string } }

/** A log record: a step's or an evaluation's numbers by key. */
type Record = { readonly [key: string]: unknown };

/** A function that rewrites curves.html and curves.png in `out` from the log records. A PNG that cannot be
 * drawn (no renderer) is logged once and skipped; curves.html is always written. */
export function curvesWriter(out: string, spec: CurvesSpec, log: (line: string) => void): (history: readonly Record[]) => Promise<void> {
  let pngFailed = false;
  return async (history) => {
    const pick = (key: string): Array<[number, number]> => history.filter((r) => typeof r[key] === 'number').map((r) => [r['step'] as number, r[key] as number]);
    const loss: Series[] = [{ name: 'train loss', color: '#1f77b4', points: smooth(pick('loss'), spec.smoothOver) }, { name: 'val loss', color: '#d62728', points: pick('val_loss') }];
    const second: Series[] = [{ name: spec.second.name, color: '#2ca02c', points: pick(spec.second.key) }];
    await writeFileAtomic(join(out, 'curves.html'), curvesPage(spec.title, loss, second, spec.second.chart));
    if (pngFailed) return;
    let png: Uint8Array;
    try {
      png = svgToPng(curvesSvg(spec.title, loss, second, spec.second.chart));
    } catch (err) {
      log(`warning: curves.png not written (curves.html is): ${(err as Error).message}`);
      pngFailed = true;
      return;
    }
    await writeFileAtomic(join(out, 'curves.png'), png);
  };
}

/** Mean of consecutive groups of n points, to draw a readable training-loss curve. */
export function smooth(points: Array<[number, number]>, n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < points.length; i += n) {
    const group = points.slice(i, i + n);
    out.push([group[group.length - 1]![0], group.reduce((s, p) => s + p[1], 0) / group.length]);
  }
  return out;
}
