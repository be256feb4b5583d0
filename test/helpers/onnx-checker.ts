// onnx.checker.check_model(full_check=True) from Debian's python3-onnx over exported files, for the ONNX tests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/**
 * Runs the full ONNX check on every file; skips the test with a notice where /usr/bin/python3 cannot import onnx,
 * and fails there instead when AIAYN_REQUIRE_ONNX_CHECKER=1 (as CI sets it).
 */
export function checkOnnxFiles(t: TestContext, files: readonly string[]): void {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    assert.notEqual(process.env['AIAYN_REQUIRE_ONNX_CHECKER'], '1', `AIAYN_REQUIRE_ONNX_CHECKER=1 but /usr/bin/python3 cannot import onnx: ${probe.stderr || probe.error?.message}`);
    t.skip('python3-onnx is not installed (apt-get install python3-onnx); the ONNX checker test is skipped');
    return;
  }
  const check = 'import onnx, sys\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\n    print("ok", f)';
  const r = spawnSync('/usr/bin/python3', ['-c', check, ...files], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, files.length);
}
