import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusTer, formatScore, sentenceTer } from '../src/eval/index.js';
import { readJson, readLines, SYSTEMS } from './fixtures/sacrebleu/load.js';

interface ExpectedScores { configs: Record<string, string>; systems: Record<string, Record<string, { score: number }>> }

const close = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= 1e-6, `${what}: got ${actual}, expected ${expected}`);

test('TER on the full WMT17 en-de corpus equals sacreBLEU 2.6.0 for both systems, within the time budget', () => {
  const expected = readJson<ExpectedScores>('expected_scores.json');
  const refs = readLines('newstest2017-ende-ref.de');
  for (const system of SYSTEMS) {
    const start = performance.now();
    const got = corpusTer(readLines(system), [refs]);
    const seconds = (performance.now() - start) / 1000;
    close(got.score, expected.systems[system]!.ter!.score, `${system} TER`);
    assert.equal(formatScore(got).split(' = ')[0], `TER|${expected.configs.ter}`);
    assert.ok(seconds < 20, `TER took ${seconds.toFixed(1)} s`);
  }
});

test('TER by hand: a shift counts as one edit, case is ignored by default', () => {
  assert.equal(sentenceTer('a b c', ['a b c']).score, 0);
  // "c a b" -> "a b c": shifting "c" to the end is one edit out of 3 reference words
  const shifted = sentenceTer('c a b', ['a b c']);
  assert.equal(shifted.numEdits, 1);
  close(shifted.score, 100 / 3, 'one shift');
  assert.equal(sentenceTer('A B', ['a b']).score, 0);
  assert.equal(sentenceTer('A B', ['a b'], { caseSensitive: true }).numEdits, 2);
  // one insertion, one deletion ... and a substitution
  assert.equal(sentenceTer('a x c', ['a b c']).numEdits, 1);
  assert.equal(sentenceTer('a b', ['a b c']).numEdits, 1);
  assert.equal(sentenceTer('a b c d', ['a b c']).numEdits, 1);
});

test('TER edge cases: empty hypothesis or reference, several references, normalization', () => {
  assert.equal(sentenceTer('', ['a b']).score, 100);
  const emptyRef = corpusTer(['a b'], [['a b'], ['']]);
  assert.equal(emptyRef.signature.nrefs, '1');
  const twoRefs = corpusTer(['a b c'], [['a b c d'], ['x y']]);
  assert.equal(twoRefs.numEdits, 1);
  assert.equal(twoRefs.refLength, 3);
  assert.equal(sentenceTer('it\'s ok.', ['it \'s ok .'], { normalized: true }).score, 0);
  assert.equal(sentenceTer('ok, (fine)!', ['ok fine'], { noPunct: true }).score, 0);
});
