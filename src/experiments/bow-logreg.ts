// The bag-of-words baseline of the BERT experiment (docs/results.md): logistic regression on binary word
// features (BERT's basic tokenizer: lower-cased words and punctuation, Devlin et al. 2019), L2-regularised and
// fitted by full-batch gradient descent with Adam's update (Kingma & Ba 2015); the penalty is chosen on the
// validation split.

import { bertNormalize, bertPreTokenize } from '../data/bert-pretokenize.js';
import { WORDPIECE_DEFAULTS } from '../data/wordpiece.js';

/** A fitted model: weights per feature word, a bias, and the penalty it was fitted with. */
export interface BowModel { weights: Map<string, number>; bias: number; l2: number; }

/** The distinct words of a text (the features that are 1). */
export function bowFeatures(text: string): string[] {
  return [...new Set(bertPreTokenize(bertNormalize(text, WORDPIECE_DEFAULTS)))];
}

/** Fits P(y = 1 | text) = sigmoid(w . x + b) with penalty l2 * |w|^2 / 2 (mean log-loss), `iterations` full-batch Adam steps. */
export function fitBow(texts: readonly string[], ys: readonly number[], l2: number, iterations = 400, lr = 0.05): BowModel {
  const vocab = new Map<string, number>();
  const rows = texts.map((t) => bowFeatures(t).map((w) => { if (!vocab.has(w)) vocab.set(w, vocab.size); return vocab.get(w)!; }));
  const n = vocab.size + 1; // the bias last
  const w = new Float64Array(n), m = new Float64Array(n), v = new Float64Array(n);
  for (let it = 1; it <= iterations; it++) {
    const g = new Float64Array(n);
    rows.forEach((row, i) => {
      let z = w[n - 1]!;
      for (const j of row) z += w[j]!;
      const err = (1 / (1 + Math.exp(-z)) - ys[i]!) / rows.length;
      for (const j of row) g[j]! += err;
      g[n - 1]! += err;
    });
    for (let j = 0; j < n; j++) {
      const gj = g[j]! + (j < n - 1 ? l2 * w[j]! : 0);
      m[j] = 0.9 * m[j]! + 0.1 * gj;
      v[j] = 0.999 * v[j]! + 0.001 * gj * gj;
      w[j]! -= lr * (m[j]! / (1 - 0.9 ** it)) / (Math.sqrt(v[j]! / (1 - 0.999 ** it)) + 1e-8);
    }
  }
  return { weights: new Map([...vocab].map(([word, j]) => [word, w[j]!])), bias: w[n - 1]!, l2 };
}

/** P(y = 1 | text). */
export function bowProbability(model: BowModel, text: string): number {
  let z = model.bias;
  for (const word of bowFeatures(text)) z += model.weights.get(word) ?? 0;
  return 1 / (1 + Math.exp(-z));
}

/** Accuracy of thresholding at 0.5. */
export function bowAccuracy(model: BowModel, texts: readonly string[], ys: readonly number[]): number {
  return texts.filter((t, i) => (bowProbability(model, t) >= 0.5 ? 1 : 0) === ys[i]).length / texts.length;
}

/** Fits one model per penalty and keeps the one with the best validation accuracy. */
export function fitBowSelected(train: { texts: string[]; ys: number[] }, val: { texts: string[]; ys: number[] }, penalties = [1e-4, 1e-3, 1e-2, 1e-1]): BowModel & { valAccuracy: number } {
  let best: (BowModel & { valAccuracy: number }) | null = null;
  for (const l2 of penalties) {
    const model = fitBow(train.texts, train.ys, l2);
    const valAccuracy = bowAccuracy(model, val.texts, val.ys);
    if (best === null || valAccuracy > best.valAccuracy) best = { ...model, valAccuracy };
  }
  return best!;
}
