// A sentence-plausibility task built from real captions, for the BERT experiment (docs/results.md): half of the
// captions keep their text (label `original`), in the other half one word is replaced by a word drawn from the
// split's own unigram distribution (label `replaced`, in the spirit of ELECTRA's replaced-token detection, Clark
// et al. 2020). Both classes draw words from nearly the same distribution, so counting words says little; telling
// them apart needs to know which word fits its context, which is what masked-LM pretraining (Devlin et al. 2019,
// §3.1) teaches.

import { mixSeed, seededRandom } from './random.js';

/** One labelled caption. */
export interface LabelledLine { label: 'original' | 'replaced'; text: string; }

const WORD = /^([^\p{L}]*)(\p{L}[\p{L}'-]*)([^\p{L}]*)$/u;

/** The lower-cased core words of lines (letters, with inner hyphens and apostrophes) and their counts. */
function unigrams(lines: readonly string[]): { words: string[]; cumulative: number[] } {
  const counts = new Map<string, number>();
  for (const line of lines) for (const w of line.split(' ')) {
    const m = WORD.exec(w);
    if (m !== null) counts.set(m[2]!.toLowerCase(), (counts.get(m[2]!.toLowerCase()) ?? 0) + 1);
  }
  const words = [...counts.keys()].sort();
  let total = 0;
  return { words, cumulative: words.map((w) => (total += counts.get(w)!)) };
}

/** Labels each line original or replaced (coin flips from `seed`); a replaced line has one word swapped for a unigram draw. */
export function replacedWordTask(lines: readonly string[], seed: number): LabelledLine[] {
  const { words, cumulative } = unigrams(lines);
  const total = cumulative.at(-1) ?? 0;
  const random = seededRandom(mixSeed(seed, 0x5eed));
  const draw = (): string => {
    const r = random() * total;
    let lo = 0;
    for (let hi = words.length - 1; lo < hi;) { const mid = (lo + hi) >> 1; if (cumulative[mid]! > r) hi = mid; else lo = mid + 1; }
    return words[lo]!;
  };
  return lines.map((text) => {
    const tokens = text.split(' ');
    const slots = tokens.map((t, i) => (WORD.test(t) ? i : -1)).filter((i) => i >= 0);
    if (random() < 0.5 || slots.length === 0) return { label: 'original', text };
    const i = slots[Math.floor(random() * slots.length)]!;
    const [, pre, core, post] = WORD.exec(tokens[i]!)!;
    let word = draw();
    while (word === core!.toLowerCase()) word = draw();
    if (core![0] !== core![0]!.toLowerCase()) word = word[0]!.toUpperCase() + word.slice(1);
    tokens[i] = pre + word + post;
    return { label: 'replaced', text: tokens.join(' ') };
  });
}
