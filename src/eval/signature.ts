// Scores and their sacreBLEU-style reproducibility signatures, as text lines and JSON objects.
import { pyFixed } from './text.js';

/** The sacreBLEU release whose numbers and signatures this module reproduces. */
export const SACREBLEU_VERSION = '2.6.0';

/** Signature fields in sacreBLEU's order (e.g. nrefs, case, eff, tok, smooth, version); all values are strings. */
export type Signature = Record<string, string>;

/** What every metric result has: a display name, the score (0-100) and its signature. */
export interface MetricScore {
  name: string;
  score: number;
  signature: Signature;
  /** Extra details printed after the score (BLEU's precisions, BP and lengths). */
  verbose?: string;
}

/** The number of references as sacreBLEU writes it: the count, or 'var' when it differs across segments. */
export function nrefsField(counts: readonly number[]): string {
  const distinct = new Set(counts);
  return distinct.size === 1 ? String(counts[0]) : 'var';
}

/** Formats a signature like sacreBLEU: `nrefs:1|case:mixed|...|version:2.6.0`. */
export function formatSignature(score: MetricScore): string {
  return Object.entries(score.signature).map(([k, v]) => `${k}:${v}`).join('|');
}

/** Formats a score line like sacreBLEU's text output, e.g. `BLEU|nrefs:1|...|version:2.6.0 = 28.3 59.9/...`. */
export function formatScore(score: MetricScore, width = 1): string {
  const line = `${score.name}|${formatSignature(score)} = ${pyFixed(score.score, width)}`;
  return score.verbose ? `${line} ${score.verbose}` : line;
}

/** The object sacreBLEU's `-f json` prints for a score, except that `score` is not rounded. */
export function scoreToJson(score: MetricScore): Record<string, string | number> {
  const out: Record<string, string | number> = { name: score.name, score: score.score, signature: formatSignature(score) };
  if (score.verbose) out.verbose_score = score.verbose;
  return { ...out, ...score.signature };
}
