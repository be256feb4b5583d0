// How attention maps are coloured, labelled and grouped, shared by `aiayn attention` (src/inspect/heatmap.ts)
// and the web page (web/src): plain functions with no Node imports, so the browser bundle can take them.

import type { AttentionMaps } from './attention.js';

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

/** A token as a label: spaces as U+2581 (as `aiayn bpe encode` prints them), tabs and newlines as \\t \\n \\r, other control characters as \\xNN. */
export function tokenLabel(token: string): string {
  const named: Record<string, string> = { ' ': '\u2581', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
  return token.replace(/[ \x00-\x1f\x7f-\x9f]/g, (c) => named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The most characters (grapheme clusters) an axis label shows; longer labels end in an ellipsis. */
const MAX_LABEL = 16;

/** A label cut to at most max grapheme clusters, the last one an ellipsis when it is cut (never otherwise changed). */
export function cutLabel(label: string, max = MAX_LABEL): string {
  const graphemes = Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(label), (s) => s.segment);
  return graphemes.length <= max ? label : graphemes.slice(0, max - 1).join('') + '\u2026';
}

/** A token as an axis label, the same in the HTML page, the PNG and the web page: tokenLabel, cut by cutLabel. */
export function axisLabel(token: string): string {
  return cutLabel(tokenLabel(token));
}

/** One kind of attention: where its maps are and which tokens label its rows (queries) and columns (keys). */
export interface AttentionKind {
  key: 'encoderSelf' | 'decoderSelf' | 'cross';
  title: string;
  axes: string;
  rows(maps: AttentionMaps): string[];
  cols(maps: AttentionMaps): string[];
}

/** The three kinds of attention in drawing order (§3.2.3). */
export const ATTENTION_KINDS: readonly AttentionKind[] = [
  { key: 'encoderSelf', title: 'Encoder self-attention', axes: 'rows: source token (query), columns: source token (key)', rows: (m) => m.srcTokens, cols: (m) => m.srcTokens },
  { key: 'decoderSelf', title: 'Decoder self-attention (masked)', axes: 'rows: decoder input token (query), columns: decoder input token (key)', rows: (m) => m.tgtTokens, cols: (m) => m.tgtTokens },
  { key: 'cross', title: 'Encoder-decoder attention', axes: 'rows: decoder input token (query), columns: source token (key)', rows: (m) => m.tgtTokens, cols: (m) => m.srcTokens },
];
