// Loader for the native oneDNN addon (build/Release/aiayn_native.node), wrapped as a Backend.
import type { Backend } from '../backend.js';

/** Loads the addon and returns it as a Backend; throws with the reason when it cannot. */
export function loadNativeBackend(): Backend {
  throw new Error('the native addon is not built yet');
}
