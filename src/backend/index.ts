// Backend selection: native (oneDNN addon) when it loads, else the TypeScript backend with one notice; webgpu
// when asked for (it starts asynchronously: `await initBackend('webgpu')`). Override with
// AIAYN_BACKEND=ts|native|webgpu or setBackend(); threads with AIAYN_THREADS (default: all cores).

import type { Backend, BackendName } from './backend.js';
import { loadNativeBackend } from './native/index.js';
import { tsBackend } from './ts/index.js';

export type {
  AttentionBackwardArgs, AttentionScoresArgs, Backend, BackendName, BinaryOp, BufferHandle, DecoderStepArgs, DecoderStepLayer, DecoderStepPath, DecoderStepToken, Dense,
  DType, FusedPath, FusedPathName, FusedPaths, GemmArgs, HeadPacked, HostArray, ReduceOp, Strided, UnaryOp,
} from './backend.js';
export { tsBackend } from './ts/index.js';
export type { AdapterReport } from './webgpu/device.js';
export { clearHostPool, pooledHostBytes } from './host/backend.js';

const NAMES: readonly BackendName[] = ['ts', 'native', 'webgpu'];

let current: Backend | undefined;
let nativeBackend: Backend | undefined;
let nativeError: Error | undefined;
let gpuBackend: Backend | undefined;

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

/** AIAYN_BACKEND when set, checked. */
function wantedBackend(): BackendName | undefined {
  const wanted = typeof process !== 'undefined' ? process.env['AIAYN_BACKEND'] : undefined;
  if (wanted === undefined || wanted === '') return undefined;
  if (!(NAMES as readonly string[]).includes(wanted)) throw new Error(`AIAYN_BACKEND must be one of ${NAMES.join(', ')}, got '${wanted}'`);
  return wanted as BackendName;
}

/** The backend in use, chosen on first call from AIAYN_BACKEND or by availability. */
export function getBackend(): Backend {
  if (current !== undefined) return current;
  const wanted = wantedBackend();
  if (wanted === 'webgpu') {
    if (gpuBackend !== undefined) return (current = gpuBackend);
    throw new Error("AIAYN_BACKEND=webgpu: the WebGPU backend starts asynchronously; call await initBackend() first");
  }
  if (wanted === 'ts') return (current = tsBackend);
  if (wanted === 'native' && tryNative() === undefined) throw new Error(`AIAYN_BACKEND=native but the native addon could not load: ${nativeError?.message}`);
  return (current = defaultBackend());
}

/** Native when its addon loads, else ts with one notice on stderr. */
function defaultBackend(): Backend {
  const native = tryNative();
  if (native !== undefined) return native;
  console.warn(`aiayn: native backend unavailable (${nativeError?.message ?? 'unknown reason'}); running on the TypeScript backend`);
  return tsBackend;
}

/** The named backend if it is ready (ts, native once loaded, webgpu once started), without switching to it. */
function ready(name: BackendName): Backend | undefined {
  if (name === 'ts') return tsBackend;
  if (name === 'native') {
    const native = tryNative();
    if (native === undefined) throw new Error(`native backend unavailable: ${nativeError?.message}`);
    return native;
  }
  return gpuBackend;
}

/**
 * Switches backend, by name or to a Backend object (e.g. coreOnly(...)); throws with the load error when it is not
 * available ('webgpu': after initBackend).
 */
export function setBackend(which: BackendName | Backend): Backend {
  if (typeof which !== 'string') return (current = which);
  const backend = ready(which);
  if (backend === undefined) throw new Error(`the ${which} backend starts asynchronously: call await initBackend('${which}') first`);
  return (current = backend);
}

/** The same backend without its fused paths: every op then composes the core kernels. */
export function coreOnly(backend: Backend): Backend {
  return { ...backend, fused: {} };
}

/**
 * Readies a backend (the named one, else AIAYN_BACKEND's, else the default) without switching to it unless none
 * is in use yet; the WebGPU backend is started here. Returns it.
 */
export async function initBackend(name: BackendName | undefined = wantedBackend()): Promise<Backend> {
  if (name === undefined) return getBackend();
  let backend = ready(name);
  if (backend === undefined) {
    const { createWebGPUBackend } = await import('./webgpu/index.js');
    backend = gpuBackend = await createWebGPUBackend();
  }
  current ??= backend;
  return backend;
}

/**
 * The backend AIAYN_BACKEND names, started and made current; when it is webgpu and no adapter is found, says so
 * once on stderr and stays on the default (native, else ts). What the CLI calls before it builds a model.
 */
export async function useWantedBackend(): Promise<Backend> {
  const wanted = wantedBackend();
  if (wanted !== 'webgpu') return getBackend();
  try {
    return setBackend(await initBackend('webgpu'));
  } catch (err) {
    console.warn(`aiayn: AIAYN_BACKEND=webgpu but WebGPU is unavailable (${(err as Error).message}); running on the default backend`);
    return (current = defaultBackend());
  }
}

/** Runs fn with `backend` as the current backend, then restores the previous one. */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  const previous = current;
  current = backend;
  try {
    return fn();
  } finally {
    current = previous;
  }
}

/** Names of the backends that can run here without starting a device (webgpu is listed once started). */
export function availableBackends(): BackendName[] {
  return [...(['ts'] as BackendName[]), ...(tryNative() === undefined ? [] : ['native' as const]), ...(gpuBackend === undefined ? [] : ['webgpu' as const])];
}
