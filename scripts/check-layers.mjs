#!/usr/bin/env node
// Checks that imports only point downward (docs/architecture.md): every static `import`/`export ... from` and
// dynamic `import()` of the .ts files under src/ and web/src/ is resolved to its layer and looked up in LAYERS.
// Usage: node scripts/check-layers.mjs [ROOT]   (default: the repository; the test passes a fixture tree)
// Prints one line per violation and exits 1, else one summary line.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// What each layer may import besides itself, in the order docs/architecture.md draws them (top to bottom).
// `backend` is the files directly in src/backend/ (backend.ts, the interface; strided.ts and xoshiro.ts,
// backend-neutral helpers); `backend/index.ts` picks an implementation; `backend/host` is the adapter that
// ts/ and native/ are wrapped by. Above backend/, only bench/ (oneDNN called directly) reaches an implementation.
const LAYERS = {
  'index.ts': ['serve', 'experiments', 'bench', 'train', 'inspect', 'decode', 'io', 'models', 'nn', 'tensor', 'backend/index.ts', 'backend', 'data', 'eval'],
  cli: ['serve', 'experiments', 'bench', 'train', 'inspect', 'decode', 'io', 'models', 'nn', 'tensor', 'backend/index.ts', 'backend', 'data', 'eval'],
  web: ['serve', 'experiments', 'bench', 'train', 'inspect', 'decode', 'io', 'models', 'nn', 'tensor', 'backend/index.ts', 'backend', 'data', 'eval'],
  serve: ['train', 'inspect', 'decode', 'io', 'models', 'nn', 'tensor', 'backend/index.ts', 'backend', 'data', 'eval'],
  experiments: ['train', 'inspect', 'decode', 'io', 'models', 'nn', 'tensor', 'backend/index.ts', 'backend', 'data', 'eval'],
  bench: ['train', 'inspect', 'decode', 'io', 'models', 'nn', 'tensor', 'backend/index.ts', 'backend', 'backend/native', 'data', 'eval'],
  train: ['decode', 'io', 'models', 'nn', 'tensor', 'backend/index.ts', 'backend', 'data', 'eval'],
  inspect: ['decode', 'io', 'models', 'nn', 'tensor', 'backend/index.ts', 'backend', 'data', 'eval'],
  decode: ['models', 'nn', 'tensor', 'backend/index.ts', 'backend', 'data', 'eval'],
  io: ['models', 'nn', 'tensor', 'backend/index.ts', 'backend', 'data', 'eval'],
  models: ['nn', 'tensor', 'backend/index.ts', 'backend', 'data', 'eval'],
  nn: ['tensor', 'backend/index.ts', 'backend', 'data', 'eval'],
  tensor: ['backend/index.ts', 'backend', 'data', 'eval'],
  'backend/index.ts': ['backend/ts', 'backend/native', 'backend/webgpu', 'backend/host', 'backend'],
  'backend/ts': ['backend/host', 'backend'],
  'backend/native': ['backend/host', 'backend'],
  'backend/webgpu': ['backend'],
  'backend/host': ['backend'],
  backend: [],
  data: [],
  eval: [],
};

// Imports that break LAYERS in code this check does not own; each is reported once it is gone, so it gets removed.
const EXCEPTIONS = [];

/** The layer of a repository-relative path (as in LAYERS), or undefined outside src/ and web/. */
function layerOf(path) {
  const parts = path.split('/');
  if (parts[0] === 'web') return 'web';
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  if (parts.length === 2) return parts[1];
  if (parts[1] !== 'backend') return parts[1];
  if (parts.length === 3) return parts[2] === 'index.ts' ? 'backend/index.ts' : 'backend';
  return `backend/${parts[2]}`;
}

/** Every .ts file under dir, as absolute paths (none when dir does not exist). */
function tsFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** The repository-relative .ts paths that file's relative import specifiers point to. */
function importsOf(root, file) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('./') || spec.startsWith('../'))
    .map((spec) => relative(root, resolve(dirname(file), spec)).split(sep).join('/').replace(/\.js$/, '.ts'));
}

/** Checks the tree at root: the violation lines and the numbers of files and imports looked at. */
function checkLayers(root) {
  const files = [...tsFiles(join(root, 'src')), ...tsFiles(join(root, 'web', 'src'))];
  const violations = [];
  const used = new Set();
  let imports = 0;
  for (const file of files) {
    const from = relative(root, file).split(sep).join('/');
    const layer = layerOf(from);
    if (!Object.hasOwn(LAYERS, layer ?? '')) {
      violations.push(`${from}: ${layer ?? from} is not a layer declared in scripts/check-layers.mjs`);
      continue;
    }
    for (const to of importsOf(root, file)) {
      imports++;
      const target = layerOf(to);
      if (target === layer || LAYERS[layer].includes(target)) continue;
      const exception = EXCEPTIONS.find((e) => e.file === from && e.imports === to);
      if (exception) used.add(exception);
      else violations.push(`${from} imports ${to}: ${layer} may not depend on ${target ?? 'files outside src/ and web/'}`);
    }
  }
  for (const e of EXCEPTIONS) {
    if (!used.has(e) && files.some((f) => relative(root, f).split(sep).join('/') === e.file)) {
      violations.push(`${e.file} imports ${e.imports}: no longer, so remove its exception from scripts/check-layers.mjs`);
    }
  }
  return { violations, files: files.length, imports, exceptions: used.size };
}

/** Runs the check on argv's root (default: this repository) and sets the exit code. */
function main() {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const { violations, files, imports, exceptions } = checkLayers(root);
  for (const v of violations) console.log(v);
  if (violations.length > 0) process.exitCode = 1;
  else console.log(`layers: ${files} files, ${imports} relative imports, 0 violations (${exceptions} declared exceptions)`);
}

main();
