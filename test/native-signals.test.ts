// Signals during native GEMMs. oneDNN (up to 3.11) runs its f32 GEMM kernels with the stack pointer inside a heap
// workspace (uxlfoundation/oneDNN#4845), so a signal handled mid-kernel corrupts the heap; Node handles SIGPROF
// for --cpu-prof, SIGWINCH for a resized terminal and any process.on('SIG...'). The addon keeps asynchronous
// signals blocked on its GEMM threads (native/signals.cc). Before that, this profiled run aborted in free() with
// "corrupted size vs. prev_size" within a second on this machine's AVX-512 kernels.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Products large enough for oneDNN's multithreaded kernels and small enough to repeat thousands of times; the
// batched one takes the path that spreads single-threaded GEMMs over the threads.
const workload = `import { getBackend } from './src/backend/index.ts';
import { matmul, randn, tidy, transpose } from './src/tensor/index.ts';
if (getBackend().name !== 'native') throw new Error('expected the native backend, got ' + getBackend().name);
const a = randn([512, 256]).keep(), b = randn([256, 512]).keep();
const qa = randn([16, 32, 64]).keep(), qb = randn([16, 32, 64]).keep();
let checksum = 0, calls = 0;
const t0 = Date.now();
while (Date.now() - t0 < 1500) {
  tidy(() => { checksum += matmul(a, b).slice(0, 0, 1).toArray()[7]; matmul(qa, transpose(qb, 1, 2)); });
  calls += 2;
}
console.log(JSON.stringify({ calls, finite: Number.isFinite(checksum) }));`;

test('GEMMs interrupted by a CPU profiler every 50 us finish and leave the heap intact', (t) => {
  if (!existsSync(join(root, 'build', 'Release', 'aiayn_native.node')) && process.env['AIAYN_NATIVE_PATH'] === undefined) {
    t.skip('native addon not built');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-signals-'));
  try {
    const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', dir,
      '--import', 'tsx', '--input-type=module', '-e', workload],
    { cwd: root, env: { ...process.env, AIAYN_BACKEND: 'native', AIAYN_THREADS: '2' }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { calls: number; finite: boolean };
    assert.ok(out.calls > 100, `only ${out.calls} GEMMs ran`);
    assert.equal(out.finite, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
