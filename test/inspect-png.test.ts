// The PNG writer, the bitmap font and the PNG heatmaps, read back with an independent decoder written here
// (chunk walk, CRC-32 from node:zlib, IDAT inflated with node:zlib): a valid file whose pixels are what was
// drawn, glyphs that match the 5x7 font, and heatmap cells and labels where the layout puts them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 as zlibCrc32, inflateSync } from 'node:zlib';
import type { AttentionMaps } from '../src/inspect/attention.js';
import { drawText, toAscii } from '../src/inspect/font.js';
import { pngLayout, renderPng } from '../src/inspect/heatmap.js';
import { crc32, encodePng, Raster } from '../src/inspect/png.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Decodes an 8-bit RGB, non-interlaced PNG whose rows all use filter 0, checking every chunk's CRC. */
function decodePng(png: Uint8Array): { width: number; height: number; pixel(x: number, y: number): number[]; chunks: string[] } {
  assert.deepEqual([...png.subarray(0, 8)], SIGNATURE, 'PNG signature');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: string[] = [];
  const idat: Uint8Array[] = [];
  let header: Uint8Array | undefined;
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(view.getUint32(at + 8 + length), zlibCrc32(png.subarray(at + 4, at + 8 + length)), `${type} CRC`);
    chunks.push(type);
    if (type === 'IHDR') header = data;
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  assert.ok(header !== undefined, 'IHDR chunk');
  const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const [width, height] = [hv.getUint32(0), hv.getUint32(4)];
  assert.deepEqual([...header.subarray(8)], [8, 2, 0, 0, 0], 'bit depth 8, RGB, deflate, filter method 0, no interlace');
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, height * (1 + width * 3), 'IDAT inflates to height * (1 + width * 3) bytes');
  for (let y = 0; y < height; y++) assert.equal(raw[y * (1 + width * 3)], 0, `row ${y} filter type`);
  const pixel = (x: number, y: number) => [...raw.subarray(y * (1 + width * 3) + 1 + x * 3, y * (1 + width * 3) + 4 + x * 3)];
  return { width, height, pixel, chunks };
}

test('crc32 gives the CRC-32 check value and agrees with zlib', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) & 0xff);
  assert.equal(crc32(bytes), zlibCrc32(bytes));
  assert.equal(crc32(new Uint8Array(0)), 0);
});

test('encodePng writes a valid PNG (signature, IHDR, CRCs, IDAT size) holding the drawn pixels', () => {
  const image = new Raster(7, 3, [10, 20, 30]);
  image.fillRect(2, 1, 3, 5, [200, 100, 0]); // clipped at the bottom
  image.setPixel(6, 0, [1, 2, 3]);
  image.setPixel(7, 0, [9, 9, 9]); // outside: ignored
  const png = decodePng(encodePng(image));
  assert.deepEqual(png.chunks, ['IHDR', 'IDAT', 'IEND']);
  assert.deepEqual([png.width, png.height], [7, 3]);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 7; x++) {
    const expected = x === 6 && y === 0 ? [1, 2, 3] : x >= 2 && x < 5 && y >= 1 ? [200, 100, 0] : [10, 20, 30];
    assert.deepEqual(png.pixel(x, y), expected, `pixel (${x}, ${y})`);
  }
  assert.throws(() => new Raster(0, 5), /positive integers, got 0 x 5/);
});

/** The ink of a raster region as rows of '#' and '.'. */
function inkOf(image: Raster, x0: number, y0: number, w: number, h: number): string[] {
  return Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => (image.pixels[((y0 + y) * image.width + x0 + x) * 3] === 0 ? '#' : '.')).join(''));
}

test('drawText draws 5x7 glyphs left to right, and rotated reading upwards', () => {
  const image = new Raster(14, 14);
  drawText(image, 1, 1, 'A1', [0, 0, 0]);
  assert.deepEqual(inkOf(image, 0, 0, 13, 9), [
    '.............',
    '..###....#...',
    '.#...#..##...',
    '.#...#...#...',
    '.#...#...#...',
    '.#####...#...',
    '.#...#...#...',
    '.#...#..###..',
    '.............',
  ]);
  const up = new Raster(9, 8);
  drawText(up, 1, 6, 'L', [0, 0, 0], 'up'); // bottom-left corner at (1, 6); the glyph's top faces left
  assert.deepEqual(inkOf(up, 0, 0, 9, 8), [
    '.........',
    '.........',
    '.......#.',
    '.......#.',
    '.......#.',
    '.......#.',
    '.#######.',
    '.........',
  ]);
});

test('toAscii keeps printable ASCII and maps other characters to a fallback', () => {
  assert.equal(toAscii('Ein Mädchen läuft über die Straße.'), 'Ein Madchen lauft uber die Strasse.');
  assert.equal(toAscii('café\u2581Œuvre'), 'cafe_OEuvre');
  assert.equal(toAscii('€ 5 \u{1F600}\t'), '? 5 ??');
});

/** Hand-made maps: 1 encoder and 1 decoder layer, 2 heads, S = 3 source and T = 2 target tokens, weights 0 or 1. */
function oneHotMaps(): AttentionMaps {
  const hot = (rows: number, cols: number, shift: number) => Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (j === (i + shift) % cols ? 1 : 0)));
  return {
    srcTokens: ['Mädchen ', 'läuft', '<eos>'], tgtTokens: ['<bos>', 'girl '], tgtOutTokens: ['girl ', '<eos>'], translation: 'girl',
    heads: 2, layers: { encoder: 1, decoder: 1 },
    encoderSelf: [[hot(3, 3, 0), hot(3, 3, 1)]], decoderSelf: [[hot(2, 2, 0), hot(2, 2, 0)]], cross: [[hot(2, 3, 2), hot(2, 3, 0)]],
  };
}

test('renderPng draws every panel: cells in the colour of their weight, labels beside rows and above columns', () => {
  const maps = oneHotMaps();
  const layout = pngLayout(maps);
  const png = decodePng(renderPng(maps, 'Ein Mädchen läuft'));
  assert.deepEqual([png.width, png.height], [layout.width, layout.height]);
  assert.equal(layout.panels.length, 2 + 2 + 2, 'layers x heads panels per kind');
  const [white, zero, one] = [[255, 255, 255], [247, 251, 255], [8, 48, 107]]; // background, weight 0, weight 1 ("Blues")
  const isInk = (x: number, y: number) => png.pixel(x, y).every((c) => c < 100);
  const cell = 10;
  for (const box of layout.panels) {
    const weights = maps[box.kind][box.layer]![box.head]!;
    assert.equal(box.rows, weights.length);
    assert.equal(box.cols, weights[0]!.length);
    weights.forEach((row, i) => row.forEach((w, j) => {
      const [x, y] = [box.cellsX + j * cell, box.cellsY + i * cell];
      for (const [dx, dy] of [[0, 0], [cell - 1, cell - 1], [5, 5]]) {
        assert.deepEqual(png.pixel(x + dx!, y + dy!), w === 1 ? one : zero, `${box.kind} ${box.layer}/${box.head} cell [${i}][${j}]`);
      }
    }));
    const inStrip = (x0: number, x1: number, y0: number, y1: number) => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (isInk(x, y)) return true;
      return false;
    };
    for (let i = 0; i < box.rows; i++) assert.ok(inStrip(box.x, box.cellsX, box.cellsY + i * cell, box.cellsY + (i + 1) * cell), `${box.kind} row ${i} label`);
    for (let j = 0; j < box.cols; j++) assert.ok(inStrip(box.cellsX + j * cell, box.cellsX + (j + 1) * cell, box.y + 12, box.cellsY), `${box.kind} column ${j} label`);
    assert.ok(inStrip(box.x, box.cellsX + box.cols * cell, box.y, box.y + 8), `${box.kind} caption`);
    assert.deepEqual(png.pixel(box.cellsX + box.cols * cell + 1, box.cellsY + 1), white, 'background right of the cells');
  }
  assert.ok(layout.headings.every((y) => [...Array(60).keys()].some((x) => isInk(12 + x, y + 3))), 'a heading above each kind');
});
