// The server under load, short form (bench/serve-load.ts; `npm run bench:serve` runs 200 clients x 50 requests):
// 20 concurrent clients x 10 requests mixing translate, attention, bad JSON, oversized bodies, slow, stalled and
// idle clients against a spawned `aiayn serve`: every well-formed request answered 200, every bad one a 4xx (an
// idle connection closed by the server), memory flat, path traversal refused, and SIGTERM answers what is in flight.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serveLoad } from '../bench/serve-load.js';

test('aiayn serve under a mixed load of 200 requests from 20 clients, traversal attempts and SIGTERM', async () => {
  const r = await serveLoad({ clients: 20, requests: 10, seed: 1, requestTimeout: 5 });
  assert.equal(r.requests, 200);
  assert.deepEqual(r.failed, [], 'every well-formed request is answered 200');
  assert.deepEqual(r.mishandled, [], 'every bad request gets a 4xx');
  assert.deepEqual(Object.keys(r.wellFormed).sort(), ['attention', 'slow', 'translate']);
  assert.deepEqual(Object.keys(r.bad).sort(), ['bad-json', 'idle', 'oversized', 'stalled']);
  assert.ok(r.p50Ms > 0 && r.p99Ms >= r.p50Ms, `p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`);
  assert.ok(r.rssEndMb - r.rssEarlyMb < 32, `server RSS ${r.rssEarlyMb.toFixed(1)} -> ${r.rssEndMb.toFixed(1)} MiB`);
  assert.ok(Object.keys(r.traversal).every((status) => status === '400' || status === '404'), `traversal answered ${JSON.stringify(r.traversal)}`);
  assert.deepEqual(r.shutdown, { inFlight: 30, answered: 30, exitCode: 0 });
});
