// scripts/check-layers.mjs: the real tree has no import that points upward, and a fixture tree with an upward
// import, a tensor -> backend/ts import and a backend/webgpu -> backend/host import gets all three reported
// (and exit 1) while its downward imports pass.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../scripts/check-layers.mjs', import.meta.url));

/** Runs the checker on root (the repository when omitted): its exit status and output lines. */
function check(root?: string): { status: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, root === undefined ? [SCRIPT] : [SCRIPT, root], { encoding: 'utf8' });
  assert.equal(r.stderr, '');
  return { status: r.status, lines: r.stdout.trim().split('\n') };
}

/** Writes files (repository-relative path -> text) under a new temporary directory and returns it. */
function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'aiayn-layers-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('the repository has no import that breaks the layering', () => {
  const { status, lines } = check();
  assert.deepEqual(lines.filter((l) => !l.startsWith('layers: ')), []);
  assert.equal(status, 0);
  assert.match(lines[0]!, /^layers: \d+ files, \d+ relative imports, 0 violations/);
});

test('upward and cross-backend imports are reported, downward ones are not', () => {
  const root = fixture({
    'src/nn/linear.ts': "import { matmul } from '../tensor/ops.js';\nimport type { Transformer } from '../models/transformer.js';\n",
    'src/models/transformer.ts': "export * from '../nn/linear.js';\nconst t = await import('../tensor/ops.js');\n",
    'src/tensor/ops.ts': "// import from '../backend/native/index.js' in a comment is no import\n" +
      "import { getBackend } from '../backend/index.js';\nimport { forEachStrided } from '../backend/strided.js';\n" +
      "import { gemm } from '../backend/ts/gemm.js';\n",
    'src/backend/index.ts': "export { gemm } from './ts/gemm.js';\n",
    'src/backend/strided.ts': 'export const forEachStrided = 0;\n',
    'src/backend/ts/gemm.ts': "import { hostBackend } from '../host/backend.js';\nexport const gemm = 0;\n",
    'src/backend/host/backend.ts': "import { forEachStrided } from '../strided.js';\nexport const hostBackend = 0;\n",
    'src/backend/webgpu/index.ts': "import { hostBackend } from '../host/backend.js';\n",
  });
  try {
    const { status, lines } = check(root);
    assert.equal(status, 1);
    assert.deepEqual(lines.sort(), [
      'src/backend/webgpu/index.ts imports src/backend/host/backend.ts: backend/webgpu may not depend on backend/host',
      'src/nn/linear.ts imports src/models/transformer.ts: nn may not depend on models',
      'src/tensor/ops.ts imports src/backend/ts/gemm.ts: tensor may not depend on backend/ts',
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
