// Falling back to the TypeScript backend when the native addon is missing, the error when it is demanded, and
// the install-time build script degrading to a single notice when the toolchain is incomplete.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Environment without any of our own variables, plus `extra`. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e = { ...process.env };
  for (const key of Object.keys(e)) if (key.startsWith('AIAYN_')) delete e[key];
  return { ...e, ...extra };
}

/** Runs an ES module snippet under tsx in the package root. */
function runSnippet(code: string, extra: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, env: env(extra), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs scripts/build-native.mjs with the given environment. */
function runBuild(extra: Record<string, string>): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], { cwd: root, env: env(extra), encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const select = `import { getBackend } from './src/backend/index.ts';
try { const a = getBackend(); const b = getBackend(); console.log(JSON.stringify({ names: [a.name, b.name] })); }
catch (err) { console.log(JSON.stringify({ error: err.message })); }`;

test('a missing addon falls back to the ts backend with exactly one notice', () => {
  const r = runSnippet(select, { AIAYN_NATIVE_PATH: '/nonexistent/aiayn_native.node' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { names: ['ts', 'ts'] });
  const notices = r.stderr.split('\n').filter((l) => l.includes('aiayn:'));
  assert.equal(notices.length, 1, r.stderr);
  assert.match(notices[0]!, /native backend unavailable.*\/nonexistent.*TypeScript backend/);
});

test('AIAYN_BACKEND=native with a missing addon throws a clear error', () => {
  const r = runSnippet(select, { AIAYN_NATIVE_PATH: '/nonexistent/aiayn_native.node', AIAYN_BACKEND: 'native' });
  assert.equal(r.status, 0, r.stderr);
  const { error } = JSON.parse(r.stdout) as { error?: string };
  assert.match(error ?? '', /AIAYN_BACKEND=native but the native addon could not load: native addon not found at \/nonexistent/);
});

test('a built addon is chosen by default without a notice', (t) => {
  if (!existsSync(join(root, 'build', 'Release', 'aiayn_native.node'))) {
    t.skip('native addon not built');
    return;
  }
  const r = runSnippet(select, { AIAYN_THREADS: '1' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { names: ['native', 'native'] });
  assert.doesNotMatch(r.stderr, /aiayn:/);
});

test('an addon older than the C++ sources loads, with one notice naming the rebuild', (t) => {
  const built = join(root, 'build', 'Release', 'aiayn_native.node');
  if (!existsSync(built)) {
    t.skip('no built addon to copy');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-stale-'));
  try {
    const stale = join(dir, 'aiayn_native.node');
    copyFileSync(built, stale);
    utimesSync(stale, new Date(2000, 0, 1), new Date(2000, 0, 1));
    const old = runSnippet(select, { AIAYN_NATIVE_PATH: stale });
    assert.deepEqual(JSON.parse(old.stdout), { names: ['native', 'native'] });
    assert.equal(old.stderr.match(/aiayn:/g)?.length, 1, old.stderr);
    assert.match(old.stderr, /older than the C\+\+ sources .*node scripts\/build-native\.mjs/);
    const now = new Date();
    utimesSync(stale, now, now);
    const fresh = runSnippet(select, { AIAYN_NATIVE_PATH: stale });
    assert.doesNotMatch(fresh.stderr, /aiayn:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('build-native.mjs exits 0 with one notice when there is no C++ compiler', () => {
  const bin = mkdtempSync(join(tmpdir(), 'aiayn-nocc-'));
  try {
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = runBuild({ PATH: bin });
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out.trim().split('\n').length, 1, r.out);
    assert.match(r.out, /native backend not built: no C\+\+ compiler found/);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test('build-native.mjs exits 0 naming libdnnl-dev when oneDNN headers are missing', (t) => {
  const gxx = ['/usr/bin/g++', '/usr/bin/c++'].find(existsSync);
  if (gxx === undefined) {
    t.skip('no system g++ to wrap');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-nodnnl-'));
  try {
    // A real compiler that sees an empty system root, so <oneapi/dnnl/dnnl.h> is genuinely not found.
    const cxx = join(dir, 'c++');
    writeFileSync(cxx, `#!/bin/sh\nexec ${gxx} --sysroot=${dir} -nostdinc "$@"\n`);
    chmodSync(cxx, 0o755);
    const r = runBuild({ CXX: cxx, AIAYN_SKIP_MPI: '1' });
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out.trim().split('\n').length, 1, r.out);
    assert.match(r.out, /oneDNN headers not found \(install libdnnl-dev/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a compiler that cannot build MPI programs leaves a built MPI addon in place and says why', (t) => {
  const gxx = ['/usr/bin/g++', '/usr/bin/c++'].find(existsSync);
  const mpiAddon = join(root, 'native', 'mpi', 'build', 'Release', 'aiayn_mpi.node');
  const mpicc = spawnSync('mpicc', ['--showme:compile']);
  if (gxx === undefined || mpicc.status !== 0) {
    t.skip('needs g++ and mpicc');
    return;
  }
  const before = existsSync(mpiAddon) ? statSync(mpiAddon).mtimeMs : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'aiayn-nompi-'));
  try {
    const cxx = join(dir, 'c++');
    writeFileSync(cxx, `#!/bin/sh\nexec ${gxx} --sysroot=${dir} -nostdinc "$@"\n`);
    chmodSync(cxx, 0o755);
    const r = runBuild({ CXX: cxx });
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /MPI addon not built: .*cannot build an MPI program/);
    assert.equal(existsSync(mpiAddon) ? statSync(mpiAddon).mtimeMs : undefined, before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AIAYN_SKIP_NATIVE=1 skips the build', () => {
  const r = runBuild({ AIAYN_SKIP_NATIVE: '1' });
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /AIAYN_SKIP_NATIVE=1, native addon not built/);
});
