import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusChrf, formatScore, sentenceChrf } from '../src/eval/index.js';
import { readJson, readLines, SYSTEMS } from './fixtures/sacrebleu/load.js';

interface ExpectedScores { configs: Record<string, string>; systems: Record<string, Record<string, { score: number }>> }

const close = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= 1e-6, `${what}: got ${actual}, expected ${expected}`);

test('chrF2 and chrF2++ on WMT17 en-de equal sacreBLEU 2.6.0, with their signatures', () => {
  const expected = readJson<ExpectedScores>('expected_scores.json');
  const refs = readLines('newstest2017-ende-ref.de');
  for (const system of SYSTEMS) {
    const hyps = readLines(system);
    const chrf = corpusChrf(hyps, [refs]);
    close(chrf.score, expected.systems[system]!.chrf2!.score, `${system} chrF2`);
    assert.equal(formatScore(chrf).split(' = ')[0], `chrF2|${expected.configs.chrf2}`);
    const chrfpp = corpusChrf(hyps, [refs], { wordOrder: 2 });
    close(chrfpp.score, expected.systems[system]!.chrf2pp!.score, `${system} chrF2++`);
    assert.equal(formatScore(chrfpp).split(' = ')[0], `chrF2++|${expected.configs.chrf2pp}`);
  }
});

test('chrF by hand: identical strings score 100, whitespace is ignored, disjoint strings score 0', () => {
  assert.equal(sentenceChrf('a b c', ['abc']).score, 100);
  assert.equal(sentenceChrf('xyz', ['abc']).score, 0);
  // hyp "ab" vs ref "abc": order 1 P=1 R=2/3, order 2 P=1 R=1/2, order 3 has no hyp n-grams (not effective).
  const p = 1;
  const r = (2 / 3 + 1 / 2) / 2;
  close(sentenceChrf('ab', ['abc']).score, 100 * ((5 * p * r) / (4 * p + r)), 'ab vs abc');
});

test('chrF counts code points, and chrF++ splits off one punctuation mark per word', () => {
  const astral = sentenceChrf('😀😀', ['😀😀'], { charOrder: 2 });
  assert.deepEqual(astral.stats, [2, 2, 2, 1, 1, 1]);
  const pp = sentenceChrf('(hi)', ['(hi )'], { charOrder: 1, wordOrder: 1 });
  // words: hyp ["(hi", ")"] (only the last mark is split off, sacreBLEU issue #124), ref ["(", "hi", ")"]
  assert.deepEqual(pp.stats.slice(3), [2, 3, 1]);
  assert.equal(pp.name, 'chrF2+');
});

test('multiple references: the one with the best sentence F-score counts', () => {
  const got = corpusChrf(['abc'], [['xyz'], ['abc']]);
  assert.equal(got.score, 100);
  assert.equal(got.signature.nrefs, '2');
});
