// The training curves (src/train/curves.ts) as curves.png: one SVG document with the loss and BLEU charts,
// rasterized by resvg; read back by test/helpers/png.ts, the lines are where the data put them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { svgToPng } from '../src/io/rasterize.js';
import { curvesPage, curvesSvg, type Series } from '../src/train/curves.js';
import { decodePng } from './helpers/png.js';

const LOSS: Series[] = [{ name: 'train loss', color: '#ff0000', points: [[0, 9], [100, 5], [200, 3]] }, { name: 'val <loss>', color: '#0000ff', points: [[0, 8], [200, 4]] }];
const BLEU: Series[] = [{ name: 'val BLEU (greedy)', color: '#00ff00', points: [[0, 0], [200, 20]] }];
const FIRST_BLEU: Series[] = [{ name: 'val BLEU (greedy)', color: '#00ff00', points: [[0, 0.5]] }];

test('curvesSvg draws both charts in one 640 x 620 picture; the PNG has the series colours inside each chart', () => {
  const svg = curvesSvg('Lauf über «Straße»', LOSS, BLEU);
  assert.ok(svg.includes('>Lauf über «Straße»</text>'), 'the title as written');
  assert.ok(svg.includes('>val &lt;loss&gt;</text>'), 'series names escaped');
  const png = decodePng(svgToPng(svg));
  assert.deepEqual([png.width, png.height], [640, 620]);
  // hasColour: inside a chart's plot area (legends are above it).
  const hasColour = (y0: number, y1: number, colour: number[]) => {
    for (let y = y0; y < y1; y++) for (let x = 57; x < 625; x++) if (png.pixel(x, y).every((c, k) => Math.abs(c - colour[k]!) < 40)) return true;
    return false;
  };
  assert.ok(hasColour(64, 281, [255, 0, 0]) && hasColour(64, 281, [0, 0, 255]), 'loss lines in the upper chart');
  assert.ok(!hasColour(64, 281, [0, 255, 0]), 'no BLEU line there');
  assert.ok(hasColour(360, 577, [0, 255, 0]) && !hasColour(360, 577, [255, 0, 0]), 'the BLEU line in the lower chart');
  assert.ok(curvesPage('t', LOSS, BLEU).includes('>val &lt;loss&gt;</text>'), 'the page escapes the same way');
  const first = decodePng(svgToPng(curvesSvg('t', LOSS, FIRST_BLEU)));
  let dot = 0;
  for (let y = 360; y < 600; y++) for (let x = 40; x < 625; x++) if (first.pixel(x, y).every((c, k) => Math.abs(c - [0, 255, 0][k]!) < 40)) dot++;
  assert.ok(dot >= 9, `a lone BLEU point is drawn as a dot (${dot} px)`);
});
