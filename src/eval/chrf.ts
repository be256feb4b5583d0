// chrF (Popović 2015) and chrF++ (Popović 2017) exactly as sacreBLEU 2.6.0 computes them
// (sacrebleu/metrics/chrf.py and helpers.py): character n-grams over Unicode code points with whitespace removed,
// optional word n-grams after splitting off one leading or trailing ASCII punctuation mark, per-segment statistics
// summed over the corpus, and the F-beta of precision and recall averaged over the effective orders.
import { nrefsField, SACREBLEU_VERSION, type MetricScore } from './signature.js';
import { segmentRefs } from './segments.js';
import { countAll, pySplit } from './text.js';

/** chrF options, with sacreBLEU's defaults (chrF2: 6 character orders, no word n-grams, beta 2). */
export interface ChrfOptions {
  /** Character n-gram order (default 6). */
  charOrder?: number;
  /** Word n-gram order: 0 for chrF, 2 for chrF++ (default 0). */
  wordOrder?: number;
  /** Weight of recall against precision (default 2). */
  beta?: number;
  /** Lowercase first (default false). */
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams (default false). */
  whitespace?: boolean;
  /** Use chrF++.py's epsilon smoothing instead of sacreBLEU's effective order (default false). */
  epsSmoothing?: boolean;
}

/** A chrF result: the score (0-100) and the summed [hyp, ref, match] counts per order (character orders first). */
export interface ChrfScore extends MetricScore { stats: number[]; }

const PUNCTS = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** Splits a sentence into words, separating one ASCII punctuation mark from the end (or else the start) of each. */
function splitPunctuation(sent: string): string[] {
  const words: string[] = [];
  for (const w of pySplit(sent)) {
    if (Array.from(w).length === 1) words.push(w);
    else if (PUNCTS.has(w[w.length - 1]!)) words.push(w.slice(0, -1), w[w.length - 1]!);
    else if (PUNCTS.has(w[0]!)) words.push(w[0]!, w.slice(1));
    else words.push(w);
  }
  return words;
}

/** Character n-gram counts for orders 1..maxOrder, counting Unicode code points. */
function charNgrams(line: string, maxOrder: number, whitespace: boolean): Map<string, number>[] {
  const s = whitespace ? line : pySplit(line).join('');
  const offsets: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff || i === 0 || s.charCodeAt(i - 1) < 0xd800 || s.charCodeAt(i - 1) > 0xdbff) offsets.push(i);
  }
  offsets.push(s.length);
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + n < offsets.length; i++) {
      const gram = s.slice(offsets[i], offsets[i + n]);
      counts.set(gram, (counts.get(gram) ?? 0) + 1);
    }
    out.push(counts);
  }
  return out;
}

/** All n-gram counters of a segment: character orders, then word orders. */
function allNgrams(sent: string, o: Required<ChrfOptions>): Map<string, number>[] {
  const grams = charNgrams(sent, o.charOrder, o.whitespace);
  if (o.wordOrder > 0) {
    const words = splitPunctuation(sent);
    for (let n = 1; n <= o.wordOrder; n++) {
      grams.push(countAll(Array.from({ length: Math.max(0, words.length - n + 1) }, (_, i) => words.slice(i, i + n).join(' '))));
    }
  }
  return grams;
}

/** [hyp, ref, match] counts of one order; hypothesis n-grams count only when the reference has n-grams. */
function matchStats(hyp: Map<string, number>, ref: Map<string, number>): [number, number, number] {
  let hypCount = 0;
  let match = 0;
  for (const [gram, count] of hyp) {
    hypCount += count;
    const inRef = ref.get(gram);
    if (inRef !== undefined) match += Math.min(count, inRef);
  }
  let refCount = 0;
  for (const count of ref.values()) refCount += count;
  return [ref.size > 0 ? hypCount : 0, refCount, match];
}

/** The chrF score (0-100) from flattened [hyp, ref, match] counts per order. */
function fScore(stats: readonly number[], o: Required<ChrfOptions>): number {
  const eps = 1e-16;
  const factor = o.beta ** 2;
  const order = stats.length / 3;
  let score = 0;
  let effOrder = 0;
  let avgPrec = 0;
  let avgRec = 0;
  for (let i = 0; i < order; i++) {
    const [nHyp, nRef, nMatch] = [stats[3 * i]!, stats[3 * i + 1]!, stats[3 * i + 2]!];
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effOrder += 1;
    }
  }
  if (o.epsSmoothing) return (100 * score) / order;
  if (effOrder === 0) return 0;
  avgPrec /= effOrder;
  avgRec /= effOrder;
  if (avgPrec + avgRec === 0) return 0;
  return 100 * (((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec));
}

/** Computes corpus chrF (or chrF++ with `wordOrder: 2`) of `hyps` against reference streams `refs`. */
export function corpusChrf(hyps: readonly string[], refs: readonly (readonly string[])[], opts: ChrfOptions = {}): ChrfScore {
  const o: Required<ChrfOptions> = { charOrder: 6, wordOrder: 0, beta: 2, lowercase: false, whitespace: false, epsSmoothing: false, ...opts };
  const prep = (s: string): string => (o.lowercase ? s.toLowerCase() : s);
  const segments = segmentRefs(hyps, refs);
  const totals = new Array<number>(3 * (o.charOrder + o.wordOrder)).fill(0);
  segments.forEach((segRefs, i) => {
    const hypGrams = allNgrams(prep(hyps[i]!), o);
    let best: number[] = [];
    let bestF = -1;
    for (const ref of segRefs) {
      const refGrams = allNgrams(prep(ref), o);
      const stats = hypGrams.flatMap((h, n) => matchStats(h, refGrams[n]!));
      const f = fScore(stats, o);
      if (f > bestF) [best, bestF] = [stats, f];
    }
    best.forEach((v, k) => { totals[k]! += v; });
  });
  return {
    name: `chrF${o.beta}${'+'.repeat(o.wordOrder)}`,
    score: fScore(totals, o),
    stats: totals,
    signature: {
      nrefs: nrefsField(segments.map((r) => r.length)),
      case: o.lowercase ? 'lc' : 'mixed',
      eff: o.epsSmoothing ? 'no' : 'yes',
      nc: String(o.charOrder),
      nw: String(o.wordOrder),
      space: o.whitespace ? 'yes' : 'no',
      version: SACREBLEU_VERSION,
    },
  };
}

/** chrF of one hypothesis against its references. */
export function sentenceChrf(hyp: string, refs: readonly string[], opts: ChrfOptions = {}): ChrfScore {
  return corpusChrf([hyp], refs.map((ref) => [ref]), opts);
}
