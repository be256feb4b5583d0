// A 5x7 bitmap font for printable ASCII (0x20-0x7E), to draw token labels into the PNG attention heatmaps
// (the labelled maps of the paper's Figures 3-5) without a font library. The glyphs are the classic public
// 5x7 LCD font: five column bytes per glyph, bit 0 the top row.

import type { Raster, Rgb } from './png.js';

/** Glyph size in pixels, and the advance from one character to the next. */
export const GLYPH = { width: 5, height: 7, advance: 6 } as const;

const FIRST = 0x20;
const GLYPHS = [
  '0000000000 00005f0000 0007000700 147f147f14 242a7f2a12 2313086462 3649552250 0005030000', //  !"#$%&'
  '001c224100 0041221c00 14083e0814 08083e0808 0050300000 0808080808 0060600000 2010080402', // ()*+,-./
  '3e5149453e 00427f4000 4261514946 2141454b31 1814127f10 2745454539 3c4a494930 0171090503', // 01234567
  '3649494936 064949291e 0036360000 0056360000 0814224100 1414141414 0041221408 0201510906', // 89:;<=>?
  '324979413e 7e1111117e 7f49494936 3e41414122 7f4141221c 7f49494941 7f09090901 3e4149497a', // @ABCDEFG
  '7f0808087f 00417f4100 2040413f01 7f08142241 7f40404040 7f020c027f 7f0408107f 3e4141413e', // HIJKLMNO
  '7f09090906 3e4151215e 7f09192946 4649494931 01017f0101 3f4040403f 1f2040201f 3f4038403f', // PQRSTUVW
  '6314081463 0708700807 6151494543 007f414100 0204081020 0041417f00 0402010204 4040404040', // XYZ[\]^_
  '0001020400 2054545478 7f48444438 3844444420 384444487f 3854545418 087e090102 0c5252523e', // `abcdefg
  '7f08040478 00447d4000 2040443d00 7f10284400 00417f4000 7c04180478 7c08040478 3844444438', // hijklmno
  '7c14141408 081414187c 7c08040408 4854545420 043f444020 3c4040207c 1c2040201c 3c4030403c', // pqrstuvw
  '4428102844 0c5050503c 4464544c44 0008364100 00007f0000 0041360800 1008081008', // xyz{|}~
].join(' ').split(' ');

/** Characters that decompose badly or not at all, spelled in ASCII. */
const SPELLED: Record<string, string> = { 'ß': 'ss', 'Æ': 'AE', 'æ': 'ae', 'Ø': 'O', 'ø': 'o', 'Œ': 'OE', 'œ': 'oe', '\u2581': '_', '\u2026': '...' };

/**
 * Text in printable ASCII for drawing: accented letters lose their accents (ä -> a, é -> e), ß becomes ss,
 * the word-boundary mark U+2581 becomes '_', and any other character outside 0x20-0x7E becomes '?'.
 */
export function toAscii(text: string): string {
  let out = '';
  for (const ch of text) {
    const plain = SPELLED[ch] ?? ch.normalize('NFD').replace(/\p{M}/gu, '');
    out += /^[\x20-\x7e]+$/.test(plain) ? plain : '?';
  }
  return out;
}

/**
 * Draws text (converted by toAscii) in one colour. 'right' reads left to right with (x, y) the top-left
 * corner; 'up' is rotated a quarter turn anticlockwise, reading bottom to top, with (x, y) the bottom-left corner.
 */
export function drawText(image: Raster, x: number, y: number, text: string, colour: Rgb, direction: 'right' | 'up' = 'right'): void {
  [...toAscii(text)].forEach((ch, k) => {
    const glyph = GLYPHS[ch.charCodeAt(0) - FIRST]!;
    for (let col = 0; col < GLYPH.width; col++) {
      const bits = parseInt(glyph.slice(2 * col, 2 * col + 2), 16);
      for (let row = 0; row < GLYPH.height; row++) {
        if ((bits >> row & 1) === 0) continue;
        if (direction === 'right') image.setPixel(x + k * GLYPH.advance + col, y + row, colour);
        else image.setPixel(x + row, y - k * GLYPH.advance - col, colour);
      }
    }
  });
}
