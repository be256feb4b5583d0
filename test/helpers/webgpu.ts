// The WebGPU backend for tests: started once per test file; a test skips when no adapter is found, unless
// AIAYN_REQUIRE_WEBGPU=1 (CI, where SwiftShader provides one) says it must be there.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { getBackend, initBackend, setBackend } from '../../src/backend/index.js';

let started: Promise<Backend | Error> | undefined;

/** The WebGPU backend, or undefined after skipping `t` (failing instead when AIAYN_REQUIRE_WEBGPU=1). */
export async function webgpuOrSkip(t: TestContext): Promise<Backend | undefined> {
  const before = getBackend(); // initBackend makes webgpu current only when none was chosen yet
  started ??= initBackend('webgpu').catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  const gpu = await started;
  setBackend(before);
  if (!(gpu instanceof Error)) return gpu;
  if (process.env['AIAYN_REQUIRE_WEBGPU'] === '1') assert.fail(`AIAYN_REQUIRE_WEBGPU=1 but the WebGPU backend did not start: ${gpu.message}`);
  t.skip(`no WebGPU adapter: ${gpu.message}`);
  return undefined;
}
