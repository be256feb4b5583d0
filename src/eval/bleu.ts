// Corpus and sentence BLEU (Papineni et al. 2002) exactly as sacreBLEU 2.6.0 computes them
// (sacrebleu/metrics/bleu.py: n-gram clipping against the max count over references, closest reference
// length with ties to the shorter one, smoothing methods of Chen & Cherry 2014, optional effective order).
import { nrefsField, SACREBLEU_VERSION, type MetricScore } from './signature.js';
import { segmentRefs } from './segments.js';
import { tokenize, type TokenizerName } from './tokenizers.js';
import { pyFixed, pyRstrip, pySplit } from './text.js';

/** BLEU smoothing methods: none, floor (Chen & Cherry method 1), add-k (method 2), exp (NIST, the default). */
export type SmoothMethod = 'none' | 'floor' | 'add-k' | 'exp';

/** BLEU options, with sacreBLEU's defaults. */
export interface BleuOptions {
  /** Tokenizer applied to hypotheses and references (default '13a'). */
  tokenize?: TokenizerName;
  /** Lowercase before tokenizing (default false). */
  lowercase?: boolean;
  /** Smoothing method (default 'exp'). */
  smoothMethod?: SmoothMethod;
  /** Value for 'floor' (default 0.1) and 'add-k' (default 1). */
  smoothValue?: number;
  /** Highest n-gram order (default 4). */
  maxNgramOrder?: number;
  /** Average only over orders that have n-grams (default false for corpus BLEU, true for sentenceBleu). */
  effectiveOrder?: boolean;
}

/** BLEU from sufficient statistics: score and precisions (0-100), matches (`counts`), n-gram totals, BP and lengths. */
export interface BleuStats {
  score: number;
  counts: number[];
  totals: number[];
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
  ratio: number;
}

/** A BLEU result with its sacreBLEU signature. */
export interface BleuScore extends BleuStats, MetricScore { name: 'BLEU'; verbose: string; }

const SMOOTH_DEFAULTS: Record<SmoothMethod, number | undefined> = { none: undefined, floor: 0.1, 'add-k': 1, exp: undefined };

const myLog = (x: number): number => (x === 0 ? -9999999999 : Math.log(x));

/** Computes BLEU from match counts and totals per order (sacreBLEU's `BLEU.compute_bleu`). */
export function computeBleu(correct: readonly number[], total: readonly number[], sysLen: number, refLen: number,
  opts: Pick<BleuOptions, 'smoothMethod' | 'smoothValue' | 'effectiveOrder' | 'maxNgramOrder'> = {}): BleuStats {
  const method = opts.smoothMethod ?? 'exp';
  const smoothValue = opts.smoothValue ?? SMOOTH_DEFAULTS[method] ?? 0;
  const order = opts.maxNgramOrder ?? 4;
  const counts = [...correct];
  const totals = [...total];
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(order).fill(0);
  const stats = { counts, totals, precisions, bp, sysLen, refLen, ratio: refLen ? sysLen / refLen : 0 };
  if (!counts.some((c) => c !== 0)) return { score: 0, ...stats };
  let smoothMteval = 1;
  let effOrder = order;
  for (let n = 1; n <= order; n++) {
    if (method === 'add-k' && n > 1) {
      counts[n - 1]! += smoothValue;
      totals[n - 1]! += smoothValue;
    }
    if (totals[n - 1] === 0) break;
    if (opts.effectiveOrder) effOrder = n;
    if (counts[n - 1] === 0) {
      if (method === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * totals[n - 1]!);
      } else if (method === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / totals[n - 1]!;
      }
    } else {
      precisions[n - 1] = (100 * counts[n - 1]!) / totals[n - 1]!;
    }
  }
  const logSum = precisions.slice(0, effOrder).reduce((sum, p) => sum + myLog(p), 0);
  return { score: bp * Math.exp(logSum / effOrder), ...stats };
}

/** Counts the n-grams of each order 1..maxOrder of a tokenized segment; also returns its length in tokens. */
function wordNgrams(line: string, maxOrder: number): [Map<string, number>[], number] {
  const tokens = pySplit(line);
  const byOrder: Map<string, number>[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= tokens.length; i++) {
      const gram = tokens.slice(i, i + n).join(' ');
      counts.set(gram, (counts.get(gram) ?? 0) + 1);
    }
    byOrder.push(counts);
  }
  return [byOrder, tokens.length];
}

/** The reference length closest to the hypothesis length, preferring the shorter one on ties. */
function closestRefLen(hypLen: number, refLens: readonly number[]): number {
  let best = -1;
  let bestDiff = -1;
  for (const len of refLens) {
    const diff = Math.abs(hypLen - len);
    if (bestDiff === -1 || diff < bestDiff || (diff === bestDiff && len < best)) {
      bestDiff = diff;
      best = len;
    }
  }
  return best;
}

/** The BLEU signature fields, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`. */
function bleuSignature(segments: readonly string[][], opts: BleuOptions): BleuScore['signature'] {
  const method = opts.smoothMethod ?? 'exp';
  const value = opts.smoothValue ?? SMOOTH_DEFAULTS[method];
  return {
    nrefs: nrefsField(segments.map((refs) => refs.length)),
    case: opts.lowercase ? 'lc' : 'mixed',
    eff: opts.effectiveOrder ? 'yes' : 'no',
    tok: opts.tokenize ?? '13a',
    smooth: value === undefined ? method : `${method}[${pyFixed(value, 2)}]`,
    version: SACREBLEU_VERSION,
  };
}

/** BLEU's verbose part: `59.9/34.0/21.8/14.4 (BP = 1.000 ratio = 1.026 hyp_len = 62873 ref_len = 61287)`. */
function bleuVerbose(s: BleuStats): string {
  const precs = s.precisions.map((p) => pyFixed(p, 1)).join('/');
  return `${precs} (BP = ${pyFixed(s.bp, 3)} ratio = ${pyFixed(s.ratio, 3)} hyp_len = ${s.sysLen} ref_len = ${s.refLen})`;
}

/** Computes corpus BLEU of `hyps` against reference streams `refs` (refs[k][i] = reference k of segment i). */
export function corpusBleu(hyps: readonly string[], refs: readonly (readonly string[])[], opts: BleuOptions = {}): BleuScore {
  const tok = opts.tokenize ?? '13a';
  const order = opts.maxNgramOrder ?? 4;
  const prep = (s: string): string => tokenize(tok, pyRstrip(opts.lowercase ? s.toLowerCase() : s));
  const segments = segmentRefs(hyps, refs);
  const correct = new Array<number>(order).fill(0);
  const total = new Array<number>(order).fill(0);
  let sysLen = 0;
  let refLen = 0;
  segments.forEach((segRefs, i) => {
    const refMax = Array.from({ length: order }, () => new Map<string, number>());
    const refLens: number[] = [];
    for (const ref of segRefs) {
      const [grams, len] = wordNgrams(prep(ref), order);
      refLens.push(len);
      grams.forEach((counts, n) => {
        for (const [gram, count] of counts) refMax[n]!.set(gram, Math.max(refMax[n]!.get(gram) ?? 0, count));
      });
    }
    const [hypGrams, hypLen] = wordNgrams(prep(hyps[i]!), order);
    sysLen += hypLen;
    refLen += closestRefLen(hypLen, refLens);
    hypGrams.forEach((counts, n) => {
      for (const [gram, count] of counts) {
        total[n]! += count;
        correct[n]! += Math.min(count, refMax[n]!.get(gram) ?? 0);
      }
    });
  });
  const stats = computeBleu(correct, total, sysLen, refLen, opts);
  return { name: 'BLEU', ...stats, signature: bleuSignature(segments, opts), verbose: bleuVerbose(stats) };
}

/** Sentence BLEU of one hypothesis against its references; effective order is on unless turned off. */
export function sentenceBleu(hyp: string, refs: readonly string[], opts: BleuOptions = {}): BleuScore {
  return corpusBleu([hyp], refs.map((ref) => [ref]), { ...opts, effectiveOrder: opts.effectiveOrder ?? true });
}
