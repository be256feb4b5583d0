// Placeholder until the WebGPU backend lands.
import type { Backend } from '../backend.js';

/** Starts the WebGPU backend. */
export async function createWebGPUBackend(): Promise<Backend> {
  throw new Error('the WebGPU backend is not built yet');
}
