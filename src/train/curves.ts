// Training curves as a self-contained HTML page with inline SVG (no scripts, opens anywhere).

/** One plotted series: name, colour and (x, y) points. */
export interface Series { name: string; color: string; points: Array<[number, number]>; }

/** An SVG line chart of the series, with axes labelled by their ranges. */
export function lineChart(title: string, xLabel: string, series: readonly Series[], width = 640, height = 280): string {
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const pad = { l: 56, r: 16, t: 28, b: 36 };
  if (pts.length === 0) return `<svg width="${width}" height="${height}"><text x="${pad.l}" y="${height / 2}">${title}: no data yet</text></svg>`;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const sy = (y: number) => height - pad.b - ((y - y0) / (y1 - y0 || 1)) * (height - pad.t - pad.b);
  const lines = series.map((s) => {
    const d = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"><title>${s.name}</title></path>`;
  }).join('');
  const legend = series.map((s, i) => `<text x="${pad.l + 8 + i * 120}" y="${pad.t - 10}" fill="${s.color}" font-size="12">${s.name}</text>`).join('');
  const axes = `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="#888"/>` +
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}" stroke="#888"/>` +
    `<text x="${pad.l}" y="${height - 8}" font-size="11">${x0}</text><text x="${width - pad.r}" y="${height - 8}" font-size="11" text-anchor="end">${x1} ${xLabel}</text>` +
    `<text x="${pad.l - 6}" y="${height - pad.b}" font-size="11" text-anchor="end">${y0.toPrecision(3)}</text>` +
    `<text x="${pad.l - 6}" y="${pad.t + 4}" font-size="11" text-anchor="end">${y1.toPrecision(3)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="${width / 2}" y="14" text-anchor="middle" font-size="13">${title}</text>${legend}${axes}${lines}</svg>`;
}

/** The page with the loss and BLEU (or `secondTitle`) charts. */
export function curvesPage(title: string, loss: readonly Series[], bleu: readonly Series[], secondTitle = 'validation BLEU'): string {
  return `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:sans-serif">` +
    `<h1 style="font-size:18px">${title}</h1>${lineChart('loss', 'steps', loss)}<br>${lineChart(secondTitle, 'steps', bleu)}</body>\n`;
}
