// Backend selection: native (oneDNN addon) when it loads, else the TypeScript backend with one notice.
// Override with AIAYN_BACKEND=ts|native or setBackend(); threads with AIAYN_THREADS (default: all cores).

import type { Backend } from './backend.js';
import { loadNativeBackend } from './native/index.js';
import { tsBackend } from './ts/index.js';

export type {
  AttentionBackwardArgs, AttentionScoresArgs, Backend, BinaryOp, DecoderStepArgs, DecoderStepLayer, GemmArgs, HeadPacked, ReduceOp, Strided, UnaryOp,
} from './backend.js';
export { tsBackend } from './ts/index.js';

let current: Backend | undefined;
let nativeBackend: Backend | undefined;
let nativeError: Error | undefined;

/** Loads the native backend once; returns it, or undefined with the reason kept for nativeLoadError(). */
function tryNative(): Backend | undefined {
  if (nativeBackend === undefined && nativeError === undefined) {
    try {
      nativeBackend = loadNativeBackend();
    } catch (err) {
      nativeError = err instanceof Error ? err : new Error(String(err));
    }
  }
  return nativeBackend;
}

/** Why the native backend could not load, or undefined when it loaded (or was never tried). */
export function nativeLoadError(): Error | undefined {
  return nativeError;
}

/** The backend in use, chosen on first call from AIAYN_BACKEND or by availability. */
export function getBackend(): Backend {
  if (current !== undefined) return current;
  const wanted = typeof process !== 'undefined' ? process.env['AIAYN_BACKEND'] : undefined;
  if (wanted !== undefined && wanted !== '' && wanted !== 'ts' && wanted !== 'native') {
    throw new Error(`AIAYN_BACKEND must be 'ts' or 'native', got '${wanted}'`);
  }
  if (wanted === 'ts') return (current = tsBackend);
  const native = tryNative();
  if (native !== undefined) return (current = native);
  if (wanted === 'native') throw new Error(`AIAYN_BACKEND=native but the native addon could not load: ${nativeError?.message}`);
  console.warn(`aiayn: native backend unavailable (${nativeError?.message ?? 'unknown reason'}); running on the TypeScript backend`);
  return (current = tsBackend);
}

/** Switches backend by name; throws with the load error when 'native' is not available. */
export function setBackend(name: 'ts' | 'native'): Backend {
  if (name === 'ts') return (current = tsBackend);
  const native = tryNative();
  if (native === undefined) throw new Error(`native backend unavailable: ${nativeError?.message}`);
  return (current = native);
}

/** Names of the backends that can run here. */
export function availableBackends(): Array<'ts' | 'native'> {
  return tryNative() === undefined ? ['ts'] : ['ts', 'native'];
}
