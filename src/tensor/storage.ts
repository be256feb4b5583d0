// Tensor storage: typed arrays handed out by a size-keyed pool. Disposing a tensor returns its buffer to the
// pool (once no view uses it), so a training loop reuses the same memory every step and RSS stays flat.

/** Element types a tensor can hold. */
export type DType = 'float32' | 'int32';

/** The typed array behind each dtype. */
export type ArrayFor<D extends DType> = D extends 'float32' ? Float32Array : Int32Array;

const POOL_LIMIT_BYTES = 1 << 30;
const pools = { float32: new Map<number, Float32Array[]>(), int32: new Map<number, Int32Array[]>() };
let pooledBytes = 0;

/** A buffer shared by a tensor and its views, reference counted. */
export class Storage {
  private refs = 0;
  private released = false;
  constructor(public readonly data: Float32Array | Int32Array, public readonly dtype: DType) {}

  /** Counts one more tensor using this storage. */
  retain(): void { this.refs++; }

  /** Drops one user; at zero the buffer goes back to the pool. */
  release(): void {
    if (--this.refs > 0 || this.released) return;
    this.released = true;
    const bytes = this.data.byteLength;
    if (bytes === 0 || pooledBytes + bytes > POOL_LIMIT_BYTES || this.data.byteOffset !== 0) return;
    const pool = pools[this.dtype] as Map<number, Array<Float32Array | Int32Array>>;
    let list = pool.get(this.data.length);
    if (list === undefined) pool.set(this.data.length, (list = []));
    list.push(this.data);
    pooledBytes += bytes;
  }

  /** True once every user released it. */
  get isReleased(): boolean { return this.released; }
}

/** A storage of n elements, reused from the pool when possible; zero-filled when `zero`. */
export function allocStorage(n: number, dtype: DType = 'float32', zero = false): Storage {
  const list = (pools[dtype] as Map<number, Array<Float32Array | Int32Array>>).get(n);
  const reused = list?.pop();
  if (reused !== undefined) {
    pooledBytes -= reused.byteLength;
    if (zero) reused.fill(0);
    return new Storage(reused, dtype);
  }
  return new Storage(dtype === 'float32' ? new Float32Array(n) : new Int32Array(n), dtype);
}

/** Bytes currently parked in the pool (for tests and diagnostics). */
export function pooledStorageBytes(): number {
  return pooledBytes;
}

/** Drops every pooled buffer so the garbage collector can take them. */
export function clearStoragePool(): void {
  pools.float32.clear();
  pools.int32.clear();
  pooledBytes = 0;
}
