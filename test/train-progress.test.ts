// The progress bar's text: percentage, rate, ETA (bounded by a time limit) and extra fields.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressBar, formatDuration } from '../src/train/progress.js';

describe('ProgressBar', () => {
  // Each bar's clock starts at its construction, so `start` is read just before it (a loaded machine may run a
  // test long after the suite began).
  it('estimates the time left from the rate so far', () => {
    const start = performance.now();
    const bar = new ProgressBar({ total: 100, label: 'train', unit: 'tok' });
    bar.tick(0, 500);
    const text = bar.render(25, { loss: 2.345, epoch: 3 }, start + 10_000); // 25 of 100 in ~10 s -> ~30 s left
    assert.match(text, /^train \[######------------------\]  25% 25\/100 \| 50\.\d\d tok\/s \| loss 2\.35 \| epoch 3 \| 10s < (29|30|31)s$/);
  });
  it('never promises more than the time limit leaves', () => {
    const start = performance.now();
    const bar = new ProgressBar({ total: 20000, timeLimit: 120 });
    const text = bar.render(10, {}, start + 60_000); // by count: ~33 h left; by the limit: 60 s
    assert.match(text, /1m00s < (59s|1m00s|1m01s)$/);
  });
  it('estimates from the steps done since it started when a run resumes', () => {
    const start = performance.now();
    const bar = new ProgressBar({ total: 2000, startAt: 1000 });
    const text = bar.render(1100, {}, start + 10_000); // 100 steps in ~10 s, 900 to go -> ~90 s (not ~8 s)
    assert.match(text, /10s < 1m(29|30|31)s$/);
  });
  it('formats durations', () => {
    assert.equal(formatDuration(3725), '1h02m');
    assert.equal(formatDuration(185), '3m05s');
    assert.equal(formatDuration(12.4), '12s');
    assert.equal(formatDuration(Infinity), '?');
  });
});
