// svgToPng (src/io/rasterize.ts): resvg draws text with the bundled fonts only, every script the labels need
// (Latin with umlauts and ß, Greek, Cyrillic, CJK) comes out as glyphs, and a renderer that cannot load
// gives a clear error instead of a picture. PNGs are read back by test/helpers/png.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadResvg, svgToPng } from '../src/io/rasterize.js';
import { escapeXml, svgDocument } from '../src/io/svg.js';
import { decodePng } from './helpers/png.js';

/** text drawn at 24 px on a 200 x 40 white picture, decoded, with the count of dark pixels. */
function draw(text: string): { png: ReturnType<typeof decodePng>; ink: number; bytes: Uint8Array } {
  const bytes = svgToPng(svgDocument(200, 40, `<text x="4" y="30" font-size="24">${text}</text>`));
  const png = decodePng(bytes);
  let ink = 0;
  for (let y = 0; y < png.height; y++) for (let x = 0; x < png.width; x++) if (png.pixel(x, y)[0]! < 128) ink++;
  return { png, ink, bytes };
}

test('a PNG of the SVG size; umlauts, ß, Greek, Cyrillic and CJK are drawn as glyphs from the bundled fonts', () => {
  const { png } = draw('x');
  assert.deepEqual([png.width, png.height], [200, 40]);
  assert.equal(png.chunks[0], 'IHDR');
  assert.equal(png.chunks.at(-1), 'IEND');
  assert.deepEqual(png.pixel(199, 0), [255, 255, 255], 'white background');
  const missing = draw('\u{10FFFD}').bytes; // a private-use character in no font: the missing-glyph shape
  assert.deepEqual(draw('\u{10FFFC}').bytes, missing, 'all missing characters look the same');
  for (const ch of ['ä', 'ß', 'Ω', 'Я', '中', 'あ']) {
    const drawn = draw(ch);
    assert.ok(drawn.ink > 10, `${ch} draws ink`);
    assert.notDeepEqual(drawn.bytes, missing, `${ch} has a glyph of its own`);
  }
  assert.notDeepEqual(draw('läuft').bytes, draw('lauft').bytes, 'the umlaut is drawn, not dropped');
});

test('a renderer that cannot load gives a clear error naming the package and what to do', () => {
  const failing = () => { throw new Error("Cannot find module '@resvg/resvg-js-linux-x64-gnu'\nRequire stack: ..."); };
  assert.throws(() => svgToPng(svgDocument(10, 10, ''), { loadRenderer: failing }),
    /^Error: PNG output needs the SVG renderer @resvg\/resvg-js and its prebuilt binary for \w+-\w+, which could not be loaded \(Cannot find module '@resvg\/resvg-js-linux-x64-gnu'\)\. Run 'npm ci'/);
  assert.equal(typeof loadResvg().Resvg, 'function', 'the real renderer loads here');
});

test('escapeXml escapes markup and writes characters XML forbids as \\u{hex}, so any text makes a valid SVG', () => {
  assert.equal(escapeXml(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  assert.equal(escapeXml('a\x1fb\ud800c\u{1F600}中'), 'a\\u{1f}b\\u{d800}c\u{1F600}中');
  assert.equal(decodePng(svgToPng(svgDocument(20, 20, `<text y="10">${escapeXml('\x00\x1f\udc00')}</text>`))).width, 20);
});
