// A dependency-free PNG writer for the cells of the attention heatmaps (heatmap-svg.ts embeds them, one pixel
// per cell, in the SVG that HTML pages show and resvg rasterizes): an RGB raster to draw into and an encoder
// that writes the PNG chunks of the W3C/ISO 15948 specification (signature, IHDR, IDAT compressed with
// node:zlib, IEND, each with its CRC-32).

import { deflateSync } from 'node:zlib';

/** A colour as red, green, blue in 0..255. */
export type Rgb = readonly [number, number, number];

/** An RGB image in memory: 3 bytes per pixel, rows top to bottom. */
export class Raster {
  readonly pixels: Uint8Array;

  constructor(readonly width: number, readonly height: number, background: Rgb = [255, 255, 255]) {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
      throw new RangeError(`Raster: width and height must be positive integers, got ${width} x ${height}`);
    }
    this.pixels = new Uint8Array(width * height * 3);
    this.fillRect(0, 0, width, height, background);
  }

  /** Sets one pixel; pixels outside the image are ignored. */
  setPixel(x: number, y: number, colour: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.pixels.set(colour, (y * this.width + x) * 3);
  }

  /** Fills the rectangle [x, x + w) x [y, y + h), clipped to the image. */
  fillRect(x: number, y: number, w: number, h: number, colour: Rgb): void {
    const [x0, x1] = [Math.max(0, x), Math.min(this.width, x + w)];
    for (let row = Math.max(0, y); row < Math.min(this.height, y + h); row++) {
      for (let col = x0; col < x1; col++) this.pixels.set(colour, (row * this.width + col) * 3);
    }
  }
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (ISO 3309, the polynomial PNG and zlib use) of bytes. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: length, 4-letter type, data, CRC-32 of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** The 8-byte PNG signature. */
export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** Encodes a raster as a PNG file: 8-bit RGB, not interlaced, filter type 0 (none) on every row. */
export function encodePng(image: Raster): Uint8Array {
  const { width, height, pixels } = image;
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
  const stride = width * 3;
  const scanlines = new Uint8Array(height * (1 + stride)); // each row: filter byte 0, then its pixels
  for (let y = 0; y < height; y++) scanlines.set(pixels.subarray(y * stride, (y + 1) * stride), y * (1 + stride) + 1);
  const parts = [PNG_SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(scanlines)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
