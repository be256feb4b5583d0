import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeBleu, corpusBleu, formatScore, sentenceBleu, type BleuOptions, type SmoothMethod, type TokenizerName } from '../src/eval/index.js';
import { readJson, readLines, SYSTEMS } from './fixtures/sacrebleu/load.js';

interface InlineCase {
  kind: 'corpus_bleu' | 'sentence_bleu' | 'compute_bleu_from_stats';
  hyps?: string[]; refs?: string[][];
  correct?: number[]; total?: number[]; sys_len?: number; ref_len?: number;
  options: { tokenize?: string; smooth_method?: string; smooth_value?: number | null; effective_order?: boolean; lowercase?: boolean; max_ngram_order?: number };
  computed_sacrebleu_2_6_0: number;
}

interface Expected { score: number; counts?: number[]; totals?: number[]; precisions?: number[]; bp?: number; sys_len?: number; ref_len?: number }
interface ExpectedScores { configs: Record<string, string>; systems: Record<string, Record<string, Expected>> }

const close = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= 1e-6, `${what}: got ${actual}, expected ${expected}`);

function toOptions(o: InlineCase['options']): BleuOptions {
  const opts: BleuOptions = {};
  if (o.tokenize !== undefined) opts.tokenize = o.tokenize as TokenizerName;
  if (o.smooth_method !== undefined) opts.smoothMethod = o.smooth_method as SmoothMethod;
  if (o.smooth_value !== undefined && o.smooth_value !== null) opts.smoothValue = o.smooth_value;
  if (o.effective_order !== undefined) opts.effectiveOrder = o.effective_order;
  if (o.lowercase !== undefined) opts.lowercase = o.lowercase;
  if (o.max_ngram_order !== undefined) opts.maxNgramOrder = o.max_ngram_order;
  return opts;
}

test('every inline case from sacreBLEU test_bleu.py / test_sentence_bleu.py matches 2.6.0 to 1e-6', () => {
  const { cases } = readJson<{ cases: InlineCase[] }>('sacrebleu_inline_cases.json');
  assert.equal(cases.length, 39);
  cases.forEach((c, i) => {
    const opts = toOptions(c.options);
    let score: number;
    if (c.kind === 'compute_bleu_from_stats') score = computeBleu(c.correct!, c.total!, c.sys_len!, c.ref_len!, opts).score;
    else if (c.kind === 'sentence_bleu') score = sentenceBleu(c.hyps![0]!, c.refs!.map((stream) => stream[0]!), opts).score;
    else score = corpusBleu(c.hyps!, c.refs!, opts).score;
    close(score, c.computed_sacrebleu_2_6_0, `case ${i} (${c.kind} ${JSON.stringify(c.options)})`);
  });
});

const CONFIGS: Record<string, BleuOptions> = {
  bleu_13a: {},
  bleu_13a_lowercase: { lowercase: true },
  bleu_none: { tokenize: 'none' },
  bleu_intl: { tokenize: 'intl' },
};

test('corpus BLEU on WMT17 en-de equals sacreBLEU 2.6.0: score, counts, totals, precisions, BP, lengths, signature', () => {
  const expected = readJson<ExpectedScores>('expected_scores.json');
  const refs = readLines('newstest2017-ende-ref.de');
  for (const system of SYSTEMS) {
    const hyps = readLines(system);
    for (const [config, opts] of Object.entries(CONFIGS)) {
      const want = expected.systems[system]![config]!;
      const got = corpusBleu(hyps, [refs], opts);
      const what = `${system} ${config}`;
      close(got.score, want.score, what);
      assert.deepEqual(got.counts, want.counts, what);
      assert.deepEqual(got.totals, want.totals, what);
      got.precisions.forEach((p, n) => close(p, want.precisions![n]!, `${what} precision ${n + 1}`));
      close(got.bp, want.bp!, what);
      assert.equal(got.sysLen, want.sys_len, what);
      assert.equal(got.refLen, want.ref_len, what);
      assert.equal(formatScore(got).split(' = ')[0], `BLEU|${expected.configs[config]}`);
    }
  }
});

test('the sacreBLEU text line for the default BLEU', () => {
  const got = corpusBleu(readLines('newstest2017.uedin-nmt.4722.en-de'), [readLines('newstest2017-ende-ref.de')]);
  assert.equal(formatScore(got), 'BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 28.3 59.9/34.0/21.8/14.4 (BP = 1.000 ratio = 1.026 hyp_len = 62873 ref_len = 61287)');
});

test('sentence BLEU of every uedin-nmt line equals sacreBLEU 2.6.0 (effective order)', () => {
  const hyps = readLines('newstest2017.uedin-nmt.4722.en-de');
  const refs = readLines('newstest2017-ende-ref.de');
  const rows = readLines('expected_sentence_bleu.uedin-nmt.4722.tsv').slice(1);
  assert.equal(rows.length, hyps.length);
  for (const row of rows) {
    const [line, score, counts, totals, sysLen, refLen] = row.split('\t') as [string, string, string, string, string, string];
    const i = Number(line) - 1;
    const got = sentenceBleu(hyps[i]!, [refs[i]!]);
    close(got.score, Number(score), `line ${line}`);
    assert.deepEqual(got.counts, counts.split(',').map(Number), `line ${line} counts`);
    assert.deepEqual(got.totals, totals.split(',').map(Number), `line ${line} totals`);
    assert.equal(got.sysLen, Number(sysLen), `line ${line} sys_len`);
    assert.equal(got.refLen, Number(refLen), `line ${line} ref_len`);
    if (i === 0) assert.equal(formatScore(got).split(' = ')[0], 'BLEU|nrefs:1|case:mixed|eff:yes|tok:13a|smooth:exp|version:2.6.0');
  }
});

test('signatures of smoothing methods with values and a variable number of references', () => {
  const got = sentenceBleu('a b c', ['a b c'], { smoothMethod: 'add-k' });
  assert.equal(got.signature.smooth, 'add-k[1.00]');
  assert.equal(sentenceBleu('a b', ['a b'], { smoothMethod: 'floor', smoothValue: 0.125 }).signature.smooth, 'floor[0.12]');
  const varRefs = corpusBleu(['a b', 'c d'], [['a b', 'c d'], ['a', '']]);
  assert.equal(varRefs.signature.nrefs, 'var');
  assert.throws(() => corpusBleu(['a'], [['']]), /only empty references/);
  assert.throws(() => corpusBleu(['a', 'b'], [['a']]), /1 segments but there are 2 hypotheses/);
});

test('tokenizers follow Python whitespace: a BOM is a character, U+001C separates tokens', () => {
  assert.equal(sentenceBleu('\ufeffa b', ['a b'], { tokenize: 'none' }).counts[0], 1);
  assert.equal(sentenceBleu('a\x1cb', ['a b'], { tokenize: 'none' }).counts[0], 2);
});

test('corpus BLEU on 3,000 lines takes well under a second', () => {
  const hyps = readLines('newstest2017.online-A.0.en-de').slice(0, 3000);
  const refs = readLines('newstest2017-ende-ref.de').slice(0, 3000);
  const start = performance.now();
  corpusBleu(hyps, [refs]);
  const ms = performance.now() - start;
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
});
