// The bag-of-words logistic regression baseline of the BERT experiment: at the fitted weights the gradient of
// the penalised mean log-loss vanishes (first-order optimality, checked independently of the fitting code's
// arithmetic), and a word-separable task is learnt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bowAccuracy, bowFeatures, bowProbability, fitBow } from '../src/experiments/bow-logreg.js';

test('fitBow reaches the optimum of the penalised log-loss and separates a word-level task', () => {
  const texts = Array.from({ length: 80 }, (_, i) => `a ${i % 2 === 0 ? 'good' : 'bad'} ${['red', 'blue', 'green'][i % 3]} thing ${i % 5 === 0 ? 'good' : ''}`);
  const ys = texts.map((_, i) => (i % 2 === 0 ? 1 : 0));
  const l2 = 0.05;
  const model = fitBow(texts, ys, l2, 3000, 0.05);
  assert.equal(bowAccuracy(model, texts, ys), 1);
  const grad = new Map<string, number>([...model.weights.keys()].map((w) => [w, l2 * model.weights.get(w)!]));
  let gBias = 0;
  texts.forEach((t, i) => {
    const err = (bowProbability(model, t) - ys[i]!) / texts.length;
    for (const w of bowFeatures(t)) grad.set(w, grad.get(w)! + err);
    gBias += err;
  });
  for (const [w, g] of grad) assert.ok(Math.abs(g) < 1e-4, `d/d${w} = ${g}`);
  assert.ok(Math.abs(gBias) < 1e-4, `d/dbias = ${gBias}`);
  assert.ok(model.weights.get('good')! > 1 && model.weights.get('bad')! < -1);
});
