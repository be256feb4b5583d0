#!/usr/bin/env node
// Builds the web page of `aiayn serve` into web/dist with esbuild: web/src/main.ts bundled with the model code it
// imports from src/ (ESM, for the browser), plus web/index.html and web/style.css. The page runs the model on the
// WebGPU backend (navigator.gpu) or the TypeScript backend, so two Node-only modules are replaced by stubs that
// throw: the native backend's loader and the `webgpu` package (Dawn, the Node path of src/backend/webgpu/device.ts);
// the Node built-ins that file-reading code imports (never called in the page) by stubs whose every export throws.
// Usage: node scripts/build-web.mjs [OUT_DIR]   (default web/dist; the browser test builds into a temp dir)

import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const out = resolve(process.argv[2] ?? join(web, 'dist'));
const nativeIndex = join(root, 'src', 'backend', 'native', 'index.ts');

/** Replaces a Node-only module with one whose only export is a function that throws. */
function stub(name, filter, matches, exportName) {
  return {
    name: `${name}-stub`,
    setup(b) {
      b.onResolve({ filter }, (args) => (matches(args) ? { path: name, namespace: 'stub' } : undefined));
      b.onLoad({ filter: new RegExp(`^${name}$`), namespace: 'stub' }, () => ({
        contents: `export function ${exportName}() { throw new Error('${name} is unavailable in the browser'); }`,
        loader: 'js',
      }));
    },
  };
}

/** src/backend/native/index.ts: its loader always fails, so no addon code reaches the bundle. */
const nativeStub = stub('native-backend', /\/native\/index\.js$/, (args) => resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts')) === nativeIndex, 'loadNativeBackend');
/** The `webgpu` package (Dawn for Node), which device.ts imports only when there is no navigator.gpu. */
const dawnStub = stub('webgpu-package', /^webgpu$/, () => true, 'create');

/** Replaces each `node:` module with one that has the same export names, each a function that throws. */
const nodeBuiltinStubs = {
  name: 'node-builtin-stubs',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, async (args) => {
      const names = Object.keys(await import(args.path)).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
      const lines = names.map((n) => `export const ${n} = unavailable(${JSON.stringify(n)});`);
      return {
        contents: [
          `function unavailable(name) { return () => { throw new Error(${JSON.stringify(args.path)} + '.' + name + ' is unavailable in the browser'); }; }`,
          ...lines,
          `export default {};`,
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

mkdirSync(out, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: [join(web, 'src', 'main.ts')],
  outfile: join(out, 'main.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  plugins: [nativeStub, dawnStub, nodeBuiltinStubs],
});
const leaked = Object.keys(result.metafile.inputs).filter((p) => p.includes('src/backend/native/') || p.includes('node_modules/webgpu/'));
if (!Object.keys(result.metafile.inputs).some((p) => p.endsWith('src/backend/webgpu/index.ts'))) throw new Error('build-web: the WebGPU backend is missing from the bundle');
if (leaked.length > 0) throw new Error(`build-web: node-only modules reached the bundle: ${leaked.join(', ')}`);
for (const file of ['index.html', 'style.css']) copyFileSync(join(web, file), join(out, file));
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)?.bytes ?? 0;
console.log(`build-web: ${out} (main.js ${(bytes / 1024).toFixed(0)} KiB, index.html, style.css)`);
