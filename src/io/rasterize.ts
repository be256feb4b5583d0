// SVG pictures to PNG files through resvg (@resvg/resvg-js: a maintained Rust SVG renderer whose npm package
// ships prebuilt binaries per platform, so nothing is compiled at install). Text is drawn with the fonts
// bundled in data/fonts and no system font, so a picture is the same everywhere and shows every label as written.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The font files the renderer loads: DejaVu Sans (Latin, Greek, Cyrillic, ...), Droid Sans Fallback (CJK). */
const FONT_FILES = ['DejaVuSans.ttf', 'DroidSansFallbackFull.ttf'].map((f) => fileURLToPath(new URL(`../../data/fonts/${f}`, import.meta.url)));

/** The part of @resvg/resvg-js used here. */
export interface SvgRenderer {
  Resvg: new (svg: string, options: object) => { render(): { asPng(): Uint8Array; width: number; height: number } };
}

/** Loads @resvg/resvg-js (its platform binary comes with it as an optional dependency). */
export function loadResvg(): SvgRenderer {
  return createRequire(import.meta.url)('@resvg/resvg-js') as SvgRenderer;
}

/** Options of svgToPng. */
export interface RasterizeOptions {
  /** Where the renderer comes from (default loadResvg; tests pass a failing or recording one). */
  loadRenderer?: () => SvgRenderer;
}

/** Rasterizes an SVG document to PNG bytes at its own size; throws a clear error when the renderer or a font is missing. */
export function svgToPng(svg: string, options: RasterizeOptions = {}): Uint8Array {
  let renderer: SvgRenderer;
  try {
    renderer = (options.loadRenderer ?? loadResvg)();
  } catch (err) {
    throw new Error(`PNG output needs the SVG renderer @resvg/resvg-js and its prebuilt binary for ${process.platform}-${process.arch}, `
      + `which could not be loaded (${(err as Error).message.split('\n')[0]}). Run 'npm ci' (optional dependencies included), or write HTML instead`);
  }
  const missing = FONT_FILES.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`PNG output needs the bundled fonts, missing: ${missing.join(', ')}`);
  const font = { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' };
  // imageRendering 1 (optimizeSpeed): embedded images (heatmap cells, 1 px each) are scaled without smoothing.
  return new renderer.Resvg(svg, { font, imageRendering: 1, logLevel: 'off' }).render().asPng();
}
