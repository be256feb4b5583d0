// How attention maps are coloured and labelled, shared by `aiayn attention` (src/inspect/heatmap.ts) and the
// web page (web/src): plain functions with no Node imports, so the browser bundle can take them.

/** An RGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

/** The stops of the scale, weight 0 to 1 evenly spaced. */
export const BLUES: readonly Rgb[] = [[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]];

/** The colour of an attention weight in [0, 1]: white to dark blue (ColorBrewer "Blues"). */
export function weightColour(weight: number): Rgb {
  const t = Math.min(1, Math.max(0, weight)) * (BLUES.length - 1);
  const k = Math.min(BLUES.length - 2, Math.floor(t));
  const [a, b] = [BLUES[k]!, BLUES[k + 1]!];
  const mix = (c: number) => Math.round(a[c]! + (t - k) * (b[c]! - a[c]!));
  return [mix(0), mix(1), mix(2)];
}

/** A token as a label: spaces as U+2581 (as `aiayn bpe encode` prints them), tabs and newlines escaped. */
export function tokenLabel(token: string): string {
  return token.replace(/[ \t\n\r]/g, (c) => ({ ' ': '\u2581', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
}
