// sacreBLEU's BLEU tokenizers (13a, intl, char, none), re-implemented from their documented regexes
// (sacrebleu/tokenizers/tokenizer_13a.py, tokenizer_re.py, tokenizer_intl.py, tokenizer_char.py at v2.6.0).
import { pySplit } from './text.js';

/** The names of the supported BLEU tokenizers, as in sacreBLEU's `--tokenize`. */
export const TOKENIZERS = ['13a', 'none', 'intl', 'char'] as const;
/** A BLEU tokenizer name. */
export type TokenizerName = (typeof TOKENIZERS)[number];

// mteval-v13a: punctuation and symbols, then period/comma unless next to a digit, then dash after a digit.
const RE_13A: [RegExp, string][] = [
  [/([{-~[-` -&(-+:-@/])/g, ' $1 '],
  [/([^0-9])([.,])/gu, '$1 $2 '],
  [/([.,])([^0-9])/gu, ' $1 $2'],
  [/([0-9])(-)/g, '$1 $2 '],
];

// mteval-v14 international: Unicode punctuation not next to a number, and all symbols.
const RE_INTL: [RegExp, string][] = [
  [/(\P{N})(\p{P})/gu, '$1 $2 '],
  [/(\p{P})(\P{N})/gu, ' $1 $2'],
  [/(\p{S})/gu, ' $1 '],
];

/** Applies regex rules in order, then joins the Python-whitespace-separated tokens with single spaces. */
function applyAll(line: string, rules: [RegExp, string][]): string {
  for (const [re, repl] of rules) line = line.replace(re, repl);
  return pySplit(line).join(' ');
}

/** mteval-v13a: unescapes a few XML entities, then applies the 13a rules to the space-padded line. */
function tokenize13a(line: string): string {
  line = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ')
    .replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  return applyAll(` ${line} `, RE_13A);
}

/** Tokenizes one segment the way sacreBLEU's tokenizer of that name does; split the result with `pySplit`. */
export function tokenize(name: TokenizerName, line: string): string {
  switch (name) {
    case '13a': return tokenize13a(line);
    case 'intl': return applyAll(line, RE_INTL);
    case 'char': return Array.from(line).join(' ');
    case 'none': return line;
  }
}
