import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturePath, readJson } from './fixtures/sacrebleu/load.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";

/** Runs `aiayn bleu ...args` from the sources; returns exit code, stdout and stderr. */
function aiaynBleu(args: string[], stdin = ''): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT, 'bleu', ...args], { cwd: ROOT, input: stdin, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const REF = fixturePath('newstest2017-ende-ref.de');
const HYP = fixturePath('newstest2017.uedin-nmt.4722.en-de');

test('default output is the sacreBLEU BLEU line', () => {
  const r = aiaynBleu([REF, '-i', HYP]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 28.3 59.9/34.0/21.8/14.4 (BP = 1.000 ratio = 1.026 hyp_len = 62873 ref_len = 61287)\n');
});

test('--json with -m bleu chrf ter prints unrounded scores equal to sacreBLEU, in sacreBLEU\'s order', () => {
  const expected = readJson<{ systems: Record<string, Record<string, { score: number }>> }>('expected_scores.json');
  const want = expected.systems['newstest2017.uedin-nmt.4722.en-de']!;
  const r = aiaynBleu([REF, '-i', HYP, '-m', 'ter', 'chrf', 'bleu', '--json']);
  assert.equal(r.code, 0, r.err);
  const got = JSON.parse(r.out) as { name: string; score: number; signature: string; verbose_score?: string; tok?: string }[];
  assert.deepEqual(got.map((s) => s.name), ['BLEU', 'chrF2', 'TER']);
  assert.ok(Math.abs(got[0]!.score - want.bleu_13a!.score) < 1e-9);
  assert.ok(Math.abs(got[1]!.score - want.chrf2!.score) < 1e-9);
  assert.ok(Math.abs(got[2]!.score - want.ter!.score) < 1e-9);
  assert.equal(got[0]!.verbose_score, '59.9/34.0/21.8/14.4 (BP = 1.000 ratio = 1.026 hyp_len = 62873 ref_len = 61287)');
  assert.equal(got[2]!.signature, 'nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0');
  assert.equal(got[2]!.tok, 'tercom');
});

test('hypothesis from stdin, two reference files, options for BLEU and chrF++', () => {
  const dir = tempDir('aiayn-bleu-');
  const [ref1, ref2] = [join(dir, 'r1'), join(dir, 'r2')];
  writeFileSync(ref1, 'The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n');
  writeFileSync(ref2, 'The dog had bit the man.\nNo one was surprised.\nThe man had bitten the dog.\n');
  const hyps = 'The dog bit the man.\nIt wasn\'t surprising.\nThe man had just bitten him.\n';
  const r = aiaynBleu([ref1, ref2, '--tokenize', 'intl', '--lowercase', '-m', 'bleu', 'chrf', '--chrf-word-order', '2', '-w', '2'], hyps);
  assert.equal(r.code, 0, r.err);
  const [bleu, chrf] = r.out.trimEnd().split('\n') as [string, string];
  assert.match(bleu, /^ *BLEU\|nrefs:2\|case:lc\|eff:no\|tok:intl\|smooth:exp\|version:2\.6\.0 = \d+\.\d\d /);
  assert.match(chrf, /^ *chrF2\+\+\|nrefs:2\|case:mixed\|eff:yes\|nc:6\|nw:2\|space:no\|version:2\.6\.0 = \d+\.\d\d$/);
});

test('bad input: missing file, line-count mismatch, unknown metric or tokenizer exit with 2 and a clear message', () => {
  const missing = aiaynBleu(['/nonexistent/ref.txt', '-i', HYP]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read reference file '\/nonexistent\/ref\.txt': ENOENT/);
  const mismatch = aiaynBleu([REF], 'one line\ntwo lines\n');
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.err, /hypothesis has 2 lines \(stdin\) but reference .*newstest2017-ende-ref\.de has 3004 lines/);
  const metric = aiaynBleu([REF, '-i', HYP, '-m', 'meteor']);
  assert.equal(metric.code, 2);
  assert.match(metric.err, /unknown metric 'meteor'/);
  const tok = aiaynBleu([REF, '-i', HYP, '--tokenize', 'zh']);
  assert.equal(tok.code, 2);
  assert.match(tok.err, /unknown tokenizer 'zh'/);
  const noRef = aiaynBleu([]);
  assert.equal(noRef.code, 2);
  assert.match(noRef.err, /no reference file given/);
});
