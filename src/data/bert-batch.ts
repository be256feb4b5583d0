// Batches for BERT (Devlin et al. 2019): rows of token ids padded to the longest, and the masked-LM corruption
// of §3.1 (Task #1): 15% of the (non-special) positions are chosen for prediction; of those 80% become [MASK],
// 10% a random token and 10% stay unchanged; labels hold the original ids there and -100 elsewhere.

/** A padded batch: ids and token types (B * S, row-major), and B and S. */
export interface PaddedBatch { ids: Int32Array; tokenTypes: Int32Array; b: number; s: number; }

/** Pads rows of ids (and their token types, default 0) to the longest row with padId. */
export function padBatch(rows: ReadonlyArray<ArrayLike<number>>, padId: number, typeRows?: ReadonlyArray<ArrayLike<number>>): PaddedBatch {
  const b = rows.length;
  const s = Math.max(1, ...rows.map((r) => r.length));
  const ids = new Int32Array(b * s).fill(padId);
  const tokenTypes = new Int32Array(b * s);
  rows.forEach((r, i) => {
    ids.set(r, i * s);
    if (typeRows !== undefined) tokenTypes.set(typeRows[i]!, i * s);
  });
  return { ids, tokenTypes, b, s };
}

/** What the masking needs to know: the [MASK] id, ids never chosen (specials, padding), and where random tokens come from. */
export interface MlmMaskOptions {
  maskId: number;
  /** Ids that are never chosen for prediction ([CLS], [SEP], [PAD], ...). */
  specialIds: ReadonlySet<number>;
  /** Random replacements are drawn uniformly from [firstRandomId, vocabSize). */
  firstRandomId: number;
  vocabSize: number;
  /** Fraction of positions chosen (0.15). */
  probability?: number;
}

/** The corrupted input and the labels (-100 where nothing is predicted), both B * S. */
export interface MaskedBatch { input: Int32Array; labels: Int32Array; }

/**
 * BERT's MLM corruption of a padded batch with the uniform source `random`. A row in which no position was
 * chosen gets one chosen at random, so that every row (and the batch's loss) has a target.
 */
export function maskForMlm(batch: PaddedBatch, o: MlmMaskOptions, random: () => number): MaskedBatch {
  const p = o.probability ?? 0.15;
  const input = Int32Array.from(batch.ids);
  const labels = new Int32Array(input.length).fill(-100);
  const choose = (k: number): void => {
    labels[k] = batch.ids[k]!;
    const r = random();
    if (r < 0.8) input[k] = o.maskId;
    else if (r < 0.9) input[k] = o.firstRandomId + Math.floor(random() * (o.vocabSize - o.firstRandomId));
  };
  for (let i = 0; i < batch.b; i++) {
    const candidates: number[] = [];
    for (let j = 0; j < batch.s; j++) if (!o.specialIds.has(batch.ids[i * batch.s + j]!)) candidates.push(i * batch.s + j);
    let chosen = 0;
    for (const k of candidates) if (random() < p) { choose(k); chosen++; }
    if (chosen === 0 && candidates.length > 0) choose(candidates[Math.floor(random() * candidates.length)]!);
  }
  return { input, labels };
}
