// Runs a block of tests once per backend that can load here ('ts' always; 'native' once its addon builds).
import { before, describe } from 'node:test';
import { availableBackends, getBackend, nativeLoadError, setBackend, type Backend, type BackendName } from '../../src/backend/index.js';

export type { BackendName } from '../../src/backend/index.js';

/**
 * Declares `describe(title [backend])` for every available backend, switching to it before its tests run;
 * a native backend that does not load shows up as a skipped block with the reason.
 */
export function forEachBackend(title: string, body: (backend: BackendName) => void): void {
  const names = availableBackends();
  for (const name of names) {
    describe(`${title} [${name}]`, () => {
      before(() => { setBackend(name); });
      body(name);
    });
  }
  if (!names.includes('native')) {
    describe(`${title} [native]`, { skip: `native backend unavailable: ${nativeLoadError()?.message ?? 'unknown reason'}` }, () => {});
  }
}

/** Runs fn with `backend` current, restoring the previous backend after. */
export async function onBackend<T>(backend: Backend, fn: () => T | Promise<T>): Promise<T> {
  const before = getBackend();
  setBackend(backend);
  try {
    return await fn();
  } finally {
    setBackend(before);
  }
}
