// TER (Snover et al. 2006) exactly as sacreBLEU 2.6.0 computes it (sacrebleu/metrics/ter.py and
// tokenizers/tokenizer_ter.py): Tercom tokenization (lowercasing by default), the fewest edits over the references
// divided by the average reference length, summed over the corpus.
import { nrefsField, SACREBLEU_VERSION, type MetricScore } from './signature.js';
import { segmentRefs } from './segments.js';
import { terEdits } from './ter-lib.js';
import { pyRstrip, pySplit } from './text.js';

/** TER options, with sacreBLEU's defaults (all off). */
export interface TerOptions {
  /** Apply Tercom's Western normalization: XML unescaping and splitting off punctuation (default false). */
  normalized?: boolean;
  /** Remove the punctuation marks .,?:;!"() (default false). */
  noPunct?: boolean;
  /** Keep case instead of lowercasing (default false). */
  caseSensitive?: boolean;
}

/** A TER result: score (0-100, lower is better), total edits and the summed average reference length. */
export interface TerScore extends MetricScore { name: 'TER'; numEdits: number; refLength: number; }

/** Tercom's language-independent and Western normalization (Normalizer.java, as in sacreBLEU). */
function normalize(sent: string): string {
  sent = sent.replaceAll('\n-', '').replaceAll('\n', ' ')
    .replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  sent = ` ${sent} `
    .replace(/([{-~[-` -&(-+:-@/])/g, ' $1 ')
    .replaceAll("'s ", " 's ")
    .replace(/'s$/, " 's")
    .replace(/([^0-9])([.,])/gu, '$1 $2 ')
    .replace(/([.,])([^0-9])/gu, ' $1 $2')
    .replace(/([0-9])(-)/g, '$1 $2 ');
  return pySplit(sent).join(' '); // one space between words, none at the ends
}

/** Tercom tokenization of one segment (sacreBLEU's `TercomTokenizer`, without Asian support). */
function tercomTokenize(sent: string, o: TerOptions): string {
  if (!sent) return '';
  if (!o.caseSensitive) sent = sent.toLowerCase();
  if (o.normalized) sent = normalize(sent);
  if (o.noPunct) sent = sent.replace(/[.,?:;!"()]/g, '');
  return sent;
}

/** Computes corpus TER of `hyps` against reference streams `refs` (refs[k][i] = reference k of segment i). */
export function corpusTer(hyps: readonly string[], refs: readonly (readonly string[])[], opts: TerOptions = {}): TerScore {
  const prep = (s: string): string => tercomTokenize(pyRstrip(s), opts);
  const segments = segmentRefs(hyps, refs);
  let numEdits = 0;
  let refLength = 0;
  segments.forEach((segRefs, i) => {
    const hypWords = pySplit(prep(hyps[i]!));
    let best = Infinity;
    let lengths = 0;
    for (const ref of segRefs) {
      // sacreBLEU preprocesses references twice (when caching them and when extracting their words)
      const refWords = pySplit(prep(prep(ref)));
      best = Math.min(best, terEdits(hypWords, refWords));
      lengths += refWords.length;
    }
    numEdits += best;
    refLength += lengths / segRefs.length;
  });
  const rate = refLength > 0 ? numEdits / refLength : numEdits > 0 ? 1 : 0;
  return {
    name: 'TER',
    score: 100 * rate,
    numEdits,
    refLength,
    signature: {
      nrefs: nrefsField(segments.map((r) => r.length)),
      case: opts.caseSensitive ? 'mixed' : 'lc',
      tok: 'tercom',
      norm: opts.normalized ? 'yes' : 'no',
      punct: opts.noPunct ? 'no' : 'yes',
      asian: 'no',
      version: SACREBLEU_VERSION,
    },
  };
}

/** TER of one hypothesis against its references. */
export function sentenceTer(hyp: string, refs: readonly string[], opts: TerOptions = {}): TerScore {
  return corpusTer([hyp], refs.map((ref) => [ref]), opts);
}
