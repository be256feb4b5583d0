// A PNG reader for tests, independent of the code under test: walks the chunks (CRC-32 from node:zlib),
// inflates IDAT with node:zlib and undoes the five row filters of the PNG specification (§9.2: None, Sub,
// Up, Average, Paeth). 8-bit greyscale, RGB and RGBA, not interlaced.
import assert from 'node:assert/strict';
import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 6: 4 };

/** A decoded PNG: size, colour type, chunk types in order, and pixel(x, y) as RGB. */
export interface DecodedPng { width: number; height: number; colourType: number; chunks: string[]; pixel(x: number, y: number): number[]; }

/** Paeth predictor (PNG §9.4). */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes png, asserting the signature, every CRC, the header and the inflated size. */
export function decodePng(png: Uint8Array): DecodedPng {
  assert.deepEqual([...png.subarray(0, 8)], SIGNATURE, 'PNG signature');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const chunks: string[] = [];
  const idat: Uint8Array[] = [];
  let header: Uint8Array | undefined;
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(view.getUint32(at + 8 + length), crc32(png.subarray(at + 4, at + 8 + length)), `${type} CRC`);
    chunks.push(type);
    if (type === 'IHDR') header = data;
    if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  assert.ok(header !== undefined, 'IHDR chunk');
  const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const [width, height, depth, colourType, , , interlace] = [hv.getUint32(0), hv.getUint32(4), ...header.subarray(8)] as number[];
  assert.equal(depth, 8, 'bit depth 8');
  assert.equal(interlace, 0, 'not interlaced');
  const bpp = CHANNELS[colourType!];
  assert.ok(bpp !== undefined, `colour type ${colourType}`);
  const stride = width! * bpp;
  const raw = inflateSync(Buffer.concat(idat));
  assert.equal(raw.length, height! * (1 + stride), 'IDAT inflates to height * (1 + width * channels) bytes');
  const pixels = new Uint8Array(height! * stride);
  for (let y = 0; y < height!; y++) {
    const filter = raw[y * (1 + stride)]!;
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (1 + stride) + 1 + i]!;
      const a = i >= bpp ? pixels[y * stride + i - bpp]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i]! : 0;
      const c = i >= bpp && y > 0 ? pixels[(y - 1) * stride + i - bpp]! : 0;
      const predicted = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      assert.ok(predicted !== undefined, `row ${y}: filter type ${filter}`);
      pixels[y * stride + i] = (x + predicted) & 0xff;
    }
  }
  const pixel = (x: number, y: number) => {
    const p = [...pixels.subarray((y * width! + x) * bpp, (y * width! + x + 1) * bpp)];
    return bpp === 1 ? [p[0]!, p[0]!, p[0]!] : p.slice(0, 3);
  };
  return { width: width!, height: height!, colourType: colourType!, chunks, pixel };
}
