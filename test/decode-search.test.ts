// Search algorithms against brute force on a toy model whose next-token distribution depends on the last
// token and the position: beam search with a beam wider than the space must find the exact optimum.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beamSearch, greedyDecode, lengthPenalty, sampleDecode, sampleToken, type IncrementalDecoder } from '../src/decode/index.js';
import { argmaxRows } from '../src/decode/greedy.js';
import { tensor } from '../src/tensor/ops/create.js';
import { Rng } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';

/** log-softmax of a seeded random table indexed by (sentence, position, last token). */
function toyTable(sentences: number, maxLen: number, V: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const table = new Float64Array(sentences * maxLen * V * V);
  for (let r = 0; r < table.length / V; r++) {
    let z = 0;
    for (let v = 0; v < V; v++) { table[r * V + v] = 2.5 * rng.normal(); z += Math.exp(table[r * V + v]!); }
    for (let v = 0; v < V; v++) table[r * V + v]! -= Math.log(z);
  }
  return table;
}

class ToyDecoder implements IncrementalDecoder {
  private rows: Array<{ s: number; pos: number }>;
  constructor(readonly vocabSize: number, private table: Float64Array, private maxLen: number, sentences: number) {
    this.rows = Array.from({ length: sentences }, (_, s) => ({ s, pos: 0 }));
  }
  logp(s: number, pos: number, last: number, v: number): number {
    const V = this.vocabSize;
    return this.table[((s * this.maxLen + pos) * V + last) * V + v]!;
  }
  step(last: Int32Array): Tensor {
    const V = this.vocabSize;
    assert.equal(last.length, this.rows.length);
    const out = new Float32Array(last.length * V);
    this.rows.forEach((r, i) => { for (let v = 0; v < V; v++) out[i * V + v] = this.logp(r.s, r.pos, last[i]!, v); });
    this.rows = this.rows.map((r) => ({ s: r.s, pos: r.pos + 1 }));
    return tensor(out, [last.length, V]);
  }
  select(indices: Int32Array): void { this.rows = Array.from(indices, (i) => ({ ...this.rows[i]! })); }
}

const V = 5; const BOS = 0; const EOS = 1; const MAXLEN = 4; const SENTENCES = 3;

/** Best sequence by exhaustive enumeration under the same scoring as beamSearch. */
function bruteForce(dec: ToyDecoder, s: number, alpha: number): number[] {
  let best = { score: -Infinity, tokens: [] as number[] };
  const visit = (tokens: number[], last: number, logp: number): void => {
    for (let v = 0; v < V; v++) {
      const lp = logp + dec.logp(s, tokens.length, last, v);
      const all = [...tokens, v];
      if (v === EOS || all.length === MAXLEN) {
        const score = lp / lengthPenalty(all.length, alpha);
        if (score > best.score) best = { score, tokens: v === EOS ? tokens : all };
      } else visit(all, v, lp);
    }
  };
  visit([], BOS, 0);
  return best.tokens;
}

test('lengthPenalty is ((5 + |Y|) / 6)^alpha', () => {
  assert.equal(lengthPenalty(1, 0.6), 1);
  assert.ok(Math.abs(lengthPenalty(7, 0.6) - Math.pow(2, 0.6)) < 1e-12);
  assert.equal(lengthPenalty(10, 0), 1);
});

test('beam search wider than the search space finds the exhaustive optimum', async () => {
  for (const alpha of [0, 0.6, 1.5]) {
    for (const seed of [1, 2, 3]) {
      const table = toyTable(SENTENCES, MAXLEN, V, seed);
      const got = await beamSearch(new ToyDecoder(V, table, MAXLEN, SENTENCES), SENTENCES, { bos: BOS, eos: EOS, maxLen: MAXLEN, beamSize: 200, alpha });
      const ref = new ToyDecoder(V, table, MAXLEN, SENTENCES);
      for (let s = 0; s < SENTENCES; s++) assert.deepEqual(got[s], bruteForce(ref, s, alpha), `alpha ${alpha} seed ${seed} sentence ${s}`);
    }
  }
});

test('beam size 1 equals greedy decoding', async () => {
  for (const seed of [4, 5, 6, 7]) {
    const table = toyTable(SENTENCES, MAXLEN, V, seed);
    const opts = { bos: BOS, eos: EOS, maxLen: MAXLEN };
    const greedy = await greedyDecode(new ToyDecoder(V, table, MAXLEN, SENTENCES), SENTENCES, opts);
    const beam = await beamSearch(new ToyDecoder(V, table, MAXLEN, SENTENCES), SENTENCES, { ...opts, beamSize: 1, alpha: 0.6 });
    assert.deepEqual(beam, greedy);
  }
});

test('greedy decoding picks the argmax at every step and respects per-sentence max lengths', async () => {
  const table = toyTable(SENTENCES, MAXLEN, V, 9);
  const ref = new ToyDecoder(V, table, MAXLEN, SENTENCES);
  const maxLen = [1, 2, 4];
  const got = await greedyDecode(new ToyDecoder(V, table, MAXLEN, SENTENCES), SENTENCES, { bos: BOS, eos: EOS, maxLen });
  for (let s = 0; s < SENTENCES; s++) {
    const tokens: number[] = [];
    let last = BOS;
    for (let pos = 0; pos < maxLen[s]!; pos++) {
      let best = 0;
      for (let v = 1; v < V; v++) if (ref.logp(s, pos, last, v) > ref.logp(s, pos, last, best)) best = v;
      if (best === EOS) break;
      tokens.push(best);
      last = best;
    }
    assert.deepEqual(got[s], tokens);
  }
});

test('sampling with topK = 1 is greedy; top-p keeps the smallest nucleus and renormalises', async () => {
  const table = toyTable(SENTENCES, MAXLEN, V, 11);
  const opts = { bos: BOS, eos: EOS, maxLen: MAXLEN };
  const greedy = await greedyDecode(new ToyDecoder(V, table, MAXLEN, SENTENCES), SENTENCES, opts);
  assert.deepEqual(await sampleDecode(new ToyDecoder(V, table, MAXLEN, SENTENCES), SENTENCES, { ...opts, topK: 1, rng: new Rng(3) }), greedy);

  const probs = [0.5, 0.3, 0.15, 0.05];
  const logp = Float32Array.from(probs, Math.log);
  const rng = new Rng(42);
  const counts = [0, 0, 0, 0];
  const n = 20000;
  for (let i = 0; i < n; i++) counts[sampleToken(logp, 0, 4, { ...opts, topP: 0.75 }, rng)]!++;
  // Nucleus of mass >= 0.75 is {0, 1}: renormalised to 0.625 / 0.375.
  assert.equal(counts[2], 0);
  assert.equal(counts[3], 0);
  assert.ok(Math.abs(counts[0]! / n - 0.625) < 0.015, `p(0) = ${counts[0]! / n}`);

  const hot = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) hot[sampleToken(logp, 0, 4, { ...opts, temperature: 2 }, rng)]!++;
  const z = probs.reduce((a, p) => a + Math.sqrt(p), 0);
  probs.forEach((p, v) => assert.ok(Math.abs(hot[v]! / n - Math.sqrt(p) / z) < 0.015, `temperature 2, token ${v}`));
});

test('argmaxRows takes each row\'s first largest value, never a NaN over a number, at vocabulary sizes either side of the parallel grain', async () => {
  const rng = new Rng(5);
  for (const [rows, V] of [[1, 1], [3, 7], [1, 8000], [16, 8000]] as const) {
    const logp = Float32Array.from({ length: rows * V }, () => Math.round(rng.uniform() * 20) - 30); // ties are common
    if (V > 2) { logp[0] = NaN; logp[V - 1] = NaN; }
    const got = await argmaxRows(tensor(logp, [rows, V]), rows, V);
    for (let r = 0; r < rows; r++) {
      let best = -1;
      for (let v = 0; v < V; v++) if (!Number.isNaN(logp[r * V + v]!) && (best < 0 || logp[r * V + v]! > logp[r * V + best]!)) best = v;
      assert.equal(got[r], Math.max(best, 0), `row ${r} of [${rows}, ${V}]`);
    }
  }
});
