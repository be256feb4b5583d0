import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LearnedPositionalEncoding, offsetMatrix, SinusoidalPositionalEncoding, sinusoidalTable } from '../src/nn/positional.js';
import { Rng, zeros } from '../src/tensor/index.js';

test('sinusoidal table follows §3.5 with sin and cos interleaved', () => {
  const d = 8;
  const pe = sinusoidalTable(50, d);
  for (const pos of [0, 1, 7, 49]) {
    for (let i = 0; i < d / 2; i++) {
      const angle = pos / Math.pow(10000, (2 * i) / d);
      assert.ok(Math.abs(pe[pos * d + 2 * i]! - Math.sin(angle)) < 1e-12);
      assert.ok(Math.abs(pe[pos * d + 2 * i + 1]! - Math.cos(angle)) < 1e-12);
    }
  }
});

test('PE(pos + k) = M_k PE(pos) for many offsets k and positions (linear-offset property)', () => {
  for (const d of [4, 16, 64]) {
    const maxLen = 300;
    const pe = sinusoidalTable(maxLen, d);
    for (const k of [0, 1, 2, 3, 5, 10, 17, 50, 99, 150]) {
      const m = offsetMatrix(k, d);
      let worst = 0;
      for (let pos = 0; pos + k < maxLen; pos += 7) {
        for (let r = 0; r < d; r++) {
          let acc = 0;
          for (let c = 0; c < d; c++) acc += m[r * d + c]! * pe[pos * d + c]!;
          worst = Math.max(worst, Math.abs(acc - pe[(pos + k) * d + r]!));
        }
      }
      assert.ok(worst < 1e-9, `d ${d}, k ${k}: max error ${worst}`);
      // M_k does not depend on pos and is a rotation: M_k M_k^T = I.
      for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) {
        let acc = 0;
        for (let j = 0; j < d; j++) acc += m[r * d + j]! * m[c * d + j]!;
        assert.ok(Math.abs(acc - (r === c ? 1 : 0)) < 1e-12);
      }
    }
  }
});

test('encodings add to (B, T, d) inputs from an offset; learned tables train', () => {
  const sin = new SinusoidalPositionalEncoding(4, 10);
  assert.equal(sin.stateDict().size, 0, 'the fixed table is not part of the state dict');
  const y = sin.forward(zeros([2, 3, 4]), 2).toArray();
  assert.ok(Math.abs(y[4]! - Math.sin(3)) < 1e-6 && Math.abs(y[12 + 5]! - Math.cos(3)) < 1e-6);
  assert.throws(() => sin.forward(zeros([1, 11, 4])), /exceed maxLen 10/);
  const learned = new LearnedPositionalEncoding(4, 10, new Rng(3));
  assert.deepEqual([...learned.stateDict().keys()], ['weight']);
  learned.forward(zeros([2, 3, 4])).sum().backward();
  const g = learned.weight.grad!.toArray();
  assert.equal(g[0], 2);
  assert.equal(g[3 * 4], 0);
});
