// Temporary directories for tests, removed when the test process exits (AIAYN_KEEP_TEST_DIRS=1 keeps them to
// inspect a failure).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  if (process.env['AIAYN_KEEP_TEST_DIRS'] === '1') return;
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the system temp dir, named prefix + random letters, removed at process exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
