// Helpers for the SVG pictures that are shown in HTML pages and rasterized to PNG by src/io/rasterize.ts: one
// font stack (the fonts bundled in data/fonts, then the browser's sans-serif), text escaping, and a width
// estimate for laying out labels.

/** The fonts every SVG picture names: the two bundled in data/fonts (Latin, Greek, Cyrillic; CJK), then sans-serif. */
export const FONT_FAMILY = "'DejaVu Sans', 'Droid Sans Fallback', sans-serif";

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for XML/HTML content and attribute values; characters XML forbids (controls, lone surrogates) show as \\u{hex}. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']|[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => ENTITIES[c] ?? `\\u{${c.charCodeAt(0).toString(16)}}`);
}

const WIDE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;

/** An upper estimate of text's width in px at fontSize: 1 em per East Asian wide character, 0.7 em per other character. */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) em += WIDE.test(ch) ? 1 : 0.7;
  return Math.ceil(em * fontSize);
}

/** A standalone SVG document of the given size whose text uses FONT_FAMILY. */
export function svgDocument(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT_FAMILY}">`
    + `<rect width="100%" height="100%" fill="#fff"/>${body}</svg>`;
}
