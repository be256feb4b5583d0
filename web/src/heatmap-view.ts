// A heatmap for the page: a canvas of coloured cells (row i, column j) with optional token labels as DOM text on
// both axes, a caption, and a readout of the cell under the pointer. Used for the attention maps (§3.2) and the
// positional-encoding views (§3.5).

/** An sRGB colour. */
export type Colour = readonly [number, number, number];

/** What to draw: values[i][j], how to colour them, labels, and cell sizes in CSS pixels. */
export interface HeatmapSpec {
  values: ArrayLike<number>[];
  colour: (value: number) => Colour;
  caption: string;
  rowLabels?: string[];
  colLabels?: string[];
  cellWidth?: number;
  cellHeight?: number;
  /** The readout text for cell (i, j). */
  describe: (i: number, j: number, value: number) => string;
}

const MAX_PX = 480;

/** Diverging colour for values in [-1, 1]: blue (-1), white (0), red (1). */
export function divergingColour(value: number): Colour {
  const t = Math.max(-1, Math.min(1, value));
  const fade = (c: number) => Math.round(255 - (255 - c) * Math.abs(t));
  return t < 0 ? [fade(33), fade(102), fade(172)] : [fade(178), fade(24), fade(43)];
}

/** An element with a class and optional text. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Replaces the contents of `container` with the heatmap. */
export function drawHeatmap(container: HTMLElement, spec: HeatmapSpec): void {
  const rows = spec.values.length;
  const cols = rows === 0 ? 0 : spec.values[0]!.length;
  const square = Math.max(1, Math.min(18, Math.floor(MAX_PX / Math.max(rows, cols, 1))));
  const [w, h] = [spec.cellWidth ?? square, spec.cellHeight ?? square];

  const canvas = el('canvas', 'cells');
  canvas.width = cols;
  canvas.height = rows;
  canvas.style.width = `${cols * w}px`;
  canvas.style.height = `${rows * h}px`;
  const ctx = canvas.getContext('2d');
  if (ctx !== null && rows > 0 && cols > 0) {
    const image = ctx.createImageData(cols, rows);
    spec.values.forEach((row, i) => {
      for (let j = 0; j < cols; j++) image.data.set([...spec.colour(row[j]!), 255], 4 * (i * cols + j));
    });
    ctx.putImageData(image, 0, 0);
  }

  const grid = el('div', 'heatmap-grid');
  grid.style.gridTemplateColumns = `max-content ${cols * w}px`;
  const colLabels = el('div', 'col-labels');
  for (const label of spec.colLabels ?? []) Object.assign(colLabels.appendChild(el('span', 'col-label', label)).style, { width: `${w}px`, fontSize: `${Math.min(12, w)}px` });
  const rowLabels = el('div', 'row-labels');
  for (const label of spec.rowLabels ?? []) Object.assign(rowLabels.appendChild(el('span', 'row-label', label)).style, { height: `${h}px`, lineHeight: `${h}px`, fontSize: `${Math.min(12, h)}px` });
  grid.append(el('div', 'corner'), colLabels, rowLabels, canvas);

  const readout = el('div', 'readout', '\u00a0');
  canvas.addEventListener('mousemove', (event) => {
    const [i, j] = [Math.floor(event.offsetY / h), Math.floor(event.offsetX / w)];
    if (i >= 0 && i < rows && j >= 0 && j < cols) readout.textContent = spec.describe(i, j, spec.values[i]![j]!);
  });
  container.replaceChildren(el('div', 'caption', spec.caption), grid, readout);
}
