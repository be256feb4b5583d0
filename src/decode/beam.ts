// Beam search with the length penalty of Wu et al. 2016 that the paper uses (§6.1: beam 4, alpha 0.6):
// a finished hypothesis Y scores log P(Y) / lp(Y), lp(Y) = ((5 + |Y|) / 6)^alpha, |Y| counting eos.

import { maxLenOf, type IncrementalDecoder, type SearchOptions } from './types.js';

/** Beam width and length-penalty exponent. */
export interface BeamOptions extends SearchOptions {
  beamSize: number;
  alpha: number;
}

/** GNMT length penalty ((5 + length) / 6)^alpha. */
export function lengthPenalty(length: number, alpha: number): number {
  return Math.pow((5 + length) / 6, alpha);
}

interface Hypothesis { tokens: number[]; logp: number; }

/** The k largest entries of row `r` of logp (indices), in descending order. */
function topKOfRow(logp: Float32Array, r: number, V: number, k: number): number[] {
  const best: number[] = [];
  const base = r * V;
  for (let v = 0; v < V; v++) {
    const x = logp[base + v]!;
    if (best.length === k && x <= logp[base + best[k - 1]!]!) continue;
    let i = Math.min(best.length, k - 1);
    if (best.length < k) best.push(v);
    while (i > 0 && logp[base + best[i - 1]!]! < x) { best[i] = best[i - 1]!; i--; }
    best[i] = v;
  }
  return best;
}

/** Beam-searches a batch of sentences; returns each sentence's best tokens without bos/eos. */
export async function beamSearch(model: IncrementalDecoder, batch: number, opts: BeamOptions): Promise<number[][]> {
  const { beamSize: K, alpha } = opts;
  if (!(Number.isInteger(K) && K >= 1)) throw new Error(`beamSearch: beamSize must be a positive integer, got ${K}`);
  const V = model.vocabSize;
  // The decoder starts with one row per sentence; widen to K rows each.
  model.select(Int32Array.from({ length: batch * K }, (_, i) => Math.floor(i / K)));
  let live = Array.from({ length: batch }, (_, s) => s);
  let beams: Hypothesis[][] = live.map(() => Array.from({ length: K }, (_, b) => ({ tokens: [], logp: b === 0 ? 0 : -Infinity })));
  const finished: Array<Array<{ tokens: number[]; score: number }>> = live.map(() => []);
  let last = new Int32Array(batch * K).fill(opts.bos);
  for (let t = 0; live.length > 0; t++) {
    const step = model.step(last);
    const logp = (await step.data().finally(() => step.dispose())) as Float32Array;
    const parents: number[] = [];
    const nextTokens: number[] = [];
    const nextLive: number[] = [];
    const nextBeams: Hypothesis[][] = [];
    live.forEach((s, li) => {
      const candidates: Array<{ row: number; beam: number; token: number; logp: number }> = [];
      for (let b = 0; b < K; b++) {
        const hyp = beams[li]![b]!;
        if (hyp.logp === -Infinity) continue;
        const row = li * K + b;
        for (const v of topKOfRow(logp, row, V, Math.min(2 * K, V))) candidates.push({ row, beam: b, token: v, logp: hyp.logp + logp[row * V + v]! });
      }
      candidates.sort((p, q) => q.logp - p.logp);
      const atLimit = t + 1 >= maxLenOf(opts, s);
      const kept: Hypothesis[] = [];
      const keptRows: number[] = [];
      for (const c of candidates) {
        if (kept.length === K || finished[s]!.length >= K) break;
        const tokens = [...beams[li]![c.beam]!.tokens, c.token];
        if (c.token === opts.eos || atLimit) {
          const body = c.token === opts.eos ? tokens.slice(0, -1) : tokens;
          finished[s]!.push({ tokens: body, score: c.logp / lengthPenalty(tokens.length, alpha) });
        } else {
          kept.push({ tokens, logp: c.logp });
          keptRows.push(c.row);
        }
      }
      if (finished[s]!.length >= K || kept.length === 0) return;
      while (kept.length < K) { kept.push({ tokens: [], logp: -Infinity }); keptRows.push(keptRows[0]!); }
      nextLive.push(s);
      nextBeams.push(kept);
      parents.push(...keptRows);
      nextTokens.push(...kept.map((h) => h.tokens[h.tokens.length - 1] ?? opts.eos));
    });
    if (nextLive.length === 0) break;
    model.select(Int32Array.from(parents));
    live = nextLive;
    beams = nextBeams;
    last = Int32Array.from(nextTokens);
  }
  return finished.map((list) => {
    let best = list[0];
    for (const h of list) if (best === undefined || h.score > best.score) best = h;
    return best?.tokens ?? [];
  });
}
