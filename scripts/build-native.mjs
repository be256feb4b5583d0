#!/usr/bin/env node
// Builds the optional native addon (build/Release/aiayn_native.node) with node-gyp; run as the package's
// `install` script. Never fails the install: when the build cannot work it prints one notice saying what is
// missing and exits 0, and the library runs on its TypeScript backend. AIAYN_SKIP_NATIVE=1 skips the build.

import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMpiAddon } from './build-mpi.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addonPath = join(root, 'build', 'Release', 'aiayn_native.node');

/** Prints the single notice and exits successfully. */
function notice(message) {
  console.warn(`aiayn: native backend not built: ${message}. The TypeScript backend will be used.`);
  process.exit(0);
}

/** Whether `file` is an executable file. */
function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The C++ compiler to use: $CXX, else the first of c++, g++, clang++ on PATH; undefined when none. */
function findCompiler() {
  const wanted = process.env.CXX;
  const names = wanted ? [wanted] : ['c++', 'g++', 'clang++'];
  for (const name of names) {
    if (isAbsolute(name)) { if (executable(name)) return name; continue; }
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (dir !== '' && executable(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}

/** Compiles and links a tiny oneDNN + OpenMP program; returns undefined when it works, else what is missing. */
function probeToolchain(cxx) {
  const program = '#include <oneapi/dnnl/dnnl.h>\n#include <omp.h>\nint main() { return dnnl_version()->major + omp_get_max_threads() > 0 ? 0 : 1; }\n';
  const r = spawnSync(cxx, ['-x', 'c++', '-', '-fopenmp', '-ldnnl', '-o', '/dev/null'], { input: program, encoding: 'utf8' });
  if (r.error) return `the C++ compiler ${cxx} could not run (${r.error.message})`;
  if (r.status === 0) return undefined;
  const err = r.stderr ?? '';
  if (/dnnl\.h/.test(err)) return 'oneDNN headers not found (install libdnnl-dev, e.g. apt-get install libdnnl-dev)';
  if (/-ldnnl/.test(err)) return 'the oneDNN library was not found (install libdnnl-dev)';
  if (/omp/.test(err)) return `${cxx} lacks OpenMP support (install libgomp / a GCC with -fopenmp)`;
  return `${cxx} failed to build a oneDNN test program: ${err.trim().split('\n').slice(-3).join(' | ')}`;
}

/** node-gyp's entry script: npm's own (npm_config_node_gyp), else the one bundled with npm next to node. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c));
}

if (process.env.AIAYN_SKIP_NATIVE === '1') {
  console.warn('aiayn: AIAYN_SKIP_NATIVE=1, native addon not built. The TypeScript backend will be used.');
  process.exit(0);
}
const cxx = findCompiler();
const nodeGyp = findNodeGyp();
const gypArgs = ['-j', 'max'];
const headersPrefix = resolve(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(headersPrefix, 'include', 'node', 'node_api.h'))) {
  gypArgs.push(`--nodedir=${headersPrefix}`);
}
// The optional MPI addon first: it needs neither oneDNN nor the main addon, so their notices must not skip it.
const mpiLine = cxx !== undefined && nodeGyp !== undefined ? buildMpiAddon(root, nodeGyp, gypArgs, { ...process.env, CXX: cxx }) : undefined;
if (mpiLine !== undefined) console.log(mpiLine);
if (cxx === undefined) {
  notice(process.env.CXX ? `the C++ compiler CXX=${process.env.CXX} was not found` : 'no C++ compiler found (install g++, e.g. apt-get install g++)');
}
const missing = probeToolchain(cxx);
if (missing !== undefined) notice(missing);
if (nodeGyp === undefined) notice('node-gyp not found (run through npm, or install node-gyp)');

const args = [nodeGyp, 'rebuild', ...gypArgs];
const build = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, CXX: cxx } });
const log = `${build.stdout ?? ''}${build.stderr ?? ''}`;
mkdirSync(join(root, 'build'), { recursive: true });
writeFileSync(join(root, 'build', 'native-build.log'), log);
if (build.status !== 0) {
  const tail = log.split('\n').filter((l) => /error/i.test(l) && !/^gyp (ERR|info)/.test(l)).slice(0, 3).join(' | ');
  notice(`node-gyp failed${tail ? `: ${tail}` : ''} (full log: build/native-build.log)`);
}
const load = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addonPath)})`], { encoding: 'utf8' });
if (load.status !== 0) notice(`the addon built but does not load: ${(load.stderr ?? '').trim().split('\n')[0]}`);
console.log(`aiayn: native backend built (${addonPath})`);
