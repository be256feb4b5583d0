// The attention PNG: the cell PNG writer (src/inspect/png.ts) and the heatmaps drawn as one SVG and rasterized by
// resvg. The renderer is wrapped to record the SVG it gets, so the test sees the exact label strings; the PNG is
// read back by the independent decoder of test/helpers/png.ts (CRCs, zlib, row filters).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { loadResvg, type SvgRenderer } from '../src/io/rasterize.js';
import type { AttentionMaps } from '../src/inspect/attention.js';
import { heatmapSvg, renderPng } from '../src/inspect/heatmap.js';
import { axisLabel, cutLabel } from '../src/inspect/palette.js';
import { crc32, encodePng, Raster } from '../src/inspect/png.js';
import { decodePng } from './helpers/png.js';

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
  assert.deepEqual([png.width, png.height, png.colourType], [7, 3, 2]);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 7; x++) {
    const expected = x === 6 && y === 0 ? [1, 2, 3] : x >= 2 && x < 5 && y >= 1 ? [200, 100, 0] : [10, 20, 30];
    assert.deepEqual(png.pixel(x, y), expected, `pixel (${x}, ${y})`);
  }
  assert.throws(() => new Raster(0, 5), /positive integers, got 0 x 5/);
});

test('labels are cut after 16 characters (grapheme clusters) with an ellipsis and otherwise left as they are', () => {
  assert.equal(axisLabel('Straße '), 'Straße\u2581');
  assert.equal(axisLabel('Donaudampfschifffahrt'), 'Donaudampfschif\u2026');
  assert.equal(cutLabel('Привет, как дела сегодня'), 'Привет, как дел\u2026');
  assert.equal(cutLabel('e\u0301'.repeat(20), 3), 'e\u0301e\u0301\u2026', 'an accent stays with its letter');
  assert.equal(cutLabel('中文字'.repeat(5)), '中文字'.repeat(5), '15 characters: not cut');
  assert.equal(axisLabel('a\x1fb\t\x7f'), 'a\\x1fb\\t\\x7f', 'control characters (byte-level BPE) are written out, not dropped');
});

const SOURCE = 'Ein Mann läuft über die Straße. Привет 中文';

/** Hand-made maps: 1 encoder and 1 decoder layer, 2 heads; weights one-hot so that every cell is weight 0 or 1. */
function oneHotMaps(): AttentionMaps {
  const src = ['Ein ', 'Mann ', 'läuft ', 'über ', 'die ', 'Straße', '.', 'Привет ', '中文', 'Donaudampfschifffahrt', '<eos>'];
  const tgt = ['<bos>', 'A ', 'man'];
  const hot = (rows: number, cols: number, shift: number) => Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (j === (i + shift) % cols ? 1 : 0)));
  return {
    srcTokens: src, tgtTokens: tgt, tgtOutTokens: ['A ', 'man', '<eos>'], translation: 'A man', heads: 2, layers: { encoder: 1, decoder: 1 },
    encoderSelf: [[hot(11, 11, 0), hot(11, 11, 3)]], decoderSelf: [[hot(3, 3, 0), hot(3, 3, 1)]], cross: [[hot(3, 11, 8), hot(3, 11, 5)]],
  };
}

/** The real renderer, wrapped to keep the SVG documents it is given. */
function recordingRenderer(): { svgs: string[]; load: () => SvgRenderer } {
  const svgs: string[] = [];
  const { Resvg } = loadResvg();
  return { svgs, load: () => ({ Resvg: class { constructor(svg: string, options: object) { svgs.push(svg); return new Resvg(svg, options); } } as unknown as SvgRenderer['Resvg'] }) };
}

/** The text content of every <text> element, unescaped. */
function texts(svg: string): string[] {
  const unescape = (t: string) => t.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => unescape(m[1]!));
}

const SRC_LABELS = ['Ein\u2581', 'Mann\u2581', 'läuft\u2581', 'über\u2581', 'die\u2581', 'Straße', '.', 'Привет\u2581', '中文', 'Donaudampfschif\u2026', '<eos>'];
const TGT_LABELS = ['<bos>', 'A\u2581', 'man'];

test('renderPng hands resvg the labels as written, and the PNG decodes at the laid-out size with cells in their colours', () => {
  const maps = oneHotMaps();
  const renderer = recordingRenderer();
  const png = decodePng(renderPng(maps, SOURCE, { loadRenderer: renderer.load }));
  assert.equal(renderer.svgs.length, 1);
  const svg = renderer.svgs[0]!;
  const panel = (rows: string[], cols: string[], layer: number, head: number) => [`layer ${layer}, head ${head}`, ...rows, ...cols];
  assert.deepEqual(texts(svg), [
    `source: ${SOURCE}`, 'target: A man', '0', '0.5', '1',
    'Encoder self-attention (rows: source token (query), columns: source token (key))',
    ...panel(SRC_LABELS, SRC_LABELS, 1, 1), ...panel(SRC_LABELS, SRC_LABELS, 1, 2),
    'Decoder self-attention (masked) (rows: decoder input token (query), columns: decoder input token (key))',
    ...panel(TGT_LABELS, TGT_LABELS, 1, 1), ...panel(TGT_LABELS, TGT_LABELS, 1, 2),
    'Encoder-decoder attention (rows: decoder input token (query), columns: source token (key))',
    ...panel(TGT_LABELS, SRC_LABELS, 1, 1), ...panel(TGT_LABELS, SRC_LABELS, 1, 2),
  ]);
  const { width, height } = heatmapSvg(maps, SOURCE);
  assert.deepEqual([png.width, png.height], [width, height]);
  assert.match(svg, new RegExp(`^<svg [^>]*width="${width}" height="${height}"`));

  // Every panel's cells, where the SVG puts them: weight 1 dark blue, weight 0 near-white ("Blues" ends).
  const boxes = [...svg.matchAll(/<g transform="translate\((\d+),(\d+)\)"><text class="caption"[^]*?<image class="cells" x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"/g)];
  const weights = [maps.encoderSelf[0]!, maps.decoderSelf[0]!, maps.cross[0]!].flat();
  assert.equal(boxes.length, weights.length, 'one panel per kind, layer and head');
  boxes.forEach((m, k) => {
    const [gx, gy, x, y, w, h] = m.slice(1).map(Number) as number[];
    const map = weights[k]!;
    assert.deepEqual([w, h], [map[0]!.length * 14, map.length * 14], `panel ${k}: 14 px cells`);
    map.forEach((row, i) => row.forEach((v, j) => {
      assert.deepEqual(png.pixel(gx! + x! + j * 14 + 7, gy! + y! + i * 14 + 7), v === 1 ? [8, 48, 107] : [247, 251, 255], `panel ${k} cell [${i}][${j}]`);
    }));
    for (let i = 0; i < map.length; i++) { // some ink left of each row: its label
      let ink = 0;
      for (let px = gx!; px < gx! + x!; px++) for (let py = gy! + y! + i * 14; py < gy! + y! + (i + 1) * 14; py++) if (png.pixel(px, py)[0]! < 160) ink++;
      assert.ok(ink > 0, `panel ${k} row ${i} label`);
    }
  });
});

test('--layer/--head selections draw only those panels; a picture over the pixel limit is refused naming the filters', () => {
  const maps = oneHotMaps();
  const { svg } = heatmapSvg(maps, SOURCE, { head: 1 });
  assert.deepEqual(texts(svg).filter((t) => t.startsWith('layer ')), ['layer 1, head 2', 'layer 1, head 2', 'layer 1, head 2']);
  const all = heatmapSvg(maps, SOURCE);
  assert.throws(() => renderPng(maps, SOURCE, { maxPixels: all.width * all.height - 1 }),
    new RegExp(`^Error: the PNG would be ${all.width} x ${all.height} pixels \\(.* megapixels\\), more than the limit of .*: draw fewer maps with --layer N and --head N, or write \\.html$`));
  assert.equal(renderPng(maps, SOURCE, { maxPixels: all.width * all.height }).length > 0, true, 'exactly at the limit is drawn');
});

test('renderPng without a renderer fails with the renderer error, drawing nothing in another font', () => {
  const failing = () => { throw new Error("Cannot find module '@resvg/resvg-js'"); };
  assert.throws(() => renderPng(oneHotMaps(), SOURCE, { loadRenderer: failing }), /PNG output needs the SVG renderer @resvg\/resvg-js .*Cannot find module/);
});
