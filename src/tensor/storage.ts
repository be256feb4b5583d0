// Tensor storage: a buffer that a backend allocated and owns (a pooled typed array on the host backends, a
// device buffer on a GPU), shared by a tensor and its views and reference counted. Disposing the last view
// gives the buffer back to its backend, so a training loop reuses the same memory every step.

import type { Backend, BufferHandle, DType } from '../backend/backend.js';
import { getBackend } from '../backend/index.js';

export type { DType } from '../backend/backend.js';

/** A backend's buffer shared by a tensor and its views, reference counted. */
export class Storage {
  private refs = 0;
  private released = false;
  /**
   * The int32 values this storage was written from, kept for checks that must run on the host (ids in range,
   * padding masks) on backends that cannot read synchronously; null once a kernel may have written the buffer.
   */
  hostIds: Int32Array | null = null;

  constructor(readonly buf: BufferHandle, readonly dtype: DType, readonly size: number, readonly backend: Backend) {}

  /** Counts one more tensor using this storage. */
  retain(): void { this.refs++; }

  /** Drops one user; at zero the buffer goes back to its backend. */
  release(): void {
    if (--this.refs > 0 || this.released) return;
    this.released = true;
    this.backend.free(this.buf, this.dtype);
  }

  /** True once every user released it. */
  get isReleased(): boolean { return this.released; }
}

/** A storage of n elements on the current backend; zero-filled when `zero`. */
export function allocStorage(n: number, dtype: DType = 'float32', zero = false): Storage {
  const backend = getBackend();
  return new Storage(backend.alloc(n, dtype, zero), dtype, n, backend);
}
