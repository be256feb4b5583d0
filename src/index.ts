// aiayn: the Transformer of "Attention Is All You Need" (Vaswani et al. 2017) in TypeScript.
export * from './tensor/index.js';
export { getBackend, setBackend, availableBackends, nativeLoadError, type Backend } from './backend/index.js';
