// Tensor storage: typed arrays handed out by a size-keyed pool. Disposing a tensor returns its buffer to the
// pool (once no view uses it), so a training loop reuses the same memory every step and RSS stays flat.

/** Element types a tensor can hold. */
export type DType = 'float32' | 'int32';

/** The typed array behind each dtype. */
export type ArrayFor<D extends DType> = D extends 'float32' ? Float32Array : Int32Array;

/**
 * Most bytes the pool parks. A training step of the small model over a 4k-token batch frees ~3.4 GB at its end;
 * a limit below that sends the overflow to the garbage collector and every step pays for fresh zeroed, page-faulted
 * buffers (2.2x slower training on Multi30k with 1 GiB). AIAYN_POOL_MB overrides it (Node only).
 */
const POOL_LIMIT_BYTES = poolLimitFromEnv() ?? 8 * 2 ** 30;

/** AIAYN_POOL_MB in bytes when set (and valid) in a Node process, else undefined. */
function poolLimitFromEnv(): number | undefined {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['AIAYN_POOL_MB'];
  if (raw === undefined || raw === '') return undefined;
  const mb = Number(raw);
  if (!(mb >= 0)) throw new Error(`AIAYN_POOL_MB must be a number of megabytes >= 0, got '${raw}'`);
  return mb * 2 ** 20;
}
const pools = { float32: new Map<number, Float32Array[]>(), int32: new Map<number, Int32Array[]>() };
let pooledBytes = 0;

/** A buffer shared by a tensor and its views, reference counted. */
export class Storage {
  private refs = 0;
  private released = false;
  constructor(public readonly data: Float32Array | Int32Array, public readonly dtype: DType) {}

  /** Counts one more tensor using this storage. */
  retain(): void { this.refs++; }

  /** Drops one user; at zero the whole underlying buffer goes back to the pool (keyed by its size class). */
  release(): void {
    if (--this.refs > 0 || this.released) return;
    this.released = true;
    const bytes = this.data.buffer.byteLength;
    if (bytes === 0 || pooledBytes + bytes > POOL_LIMIT_BYTES || this.data.byteOffset !== 0) return;
    const full = this.dtype === 'float32' ? new Float32Array(this.data.buffer) : new Int32Array(this.data.buffer);
    const pool = pools[this.dtype] as Map<number, Array<Float32Array | Int32Array>>;
    let list = pool.get(full.length);
    if (list === undefined) pool.set(full.length, (list = []));
    list.push(full);
    pooledBytes += bytes;
  }

  /** True once every user released it. */
  get isReleased(): boolean { return this.released; }
}

/**
 * The buffer length that serves a request for n elements: n itself when small, else n rounded up to a quarter
 * of its power of two (at most 25% slack), so batches of varying shape still reuse each other's buffers.
 */
export function sizeClass(n: number): number {
  if (n <= 4096) return n;
  const step = 2 ** Math.floor(Math.log2(n)) / 4;
  return Math.ceil(n / step) * step;
}

/** A storage of exactly n elements (a view on a pooled buffer of its size class); zero-filled when `zero`. */
export function allocStorage(n: number, dtype: DType = 'float32', zero = false): Storage {
  const cls = sizeClass(n);
  const reused = (pools[dtype] as Map<number, Array<Float32Array | Int32Array>>).get(cls)?.pop();
  if (reused !== undefined) {
    pooledBytes -= reused.byteLength;
    const data = dtype === 'float32' ? new Float32Array(reused.buffer, 0, n) : new Int32Array(reused.buffer, 0, n);
    if (zero) data.fill(0);
    return new Storage(data, dtype);
  }
  const buffer = new ArrayBuffer(cls * 4);
  return new Storage(dtype === 'float32' ? new Float32Array(buffer, 0, n) : new Int32Array(buffer, 0, n), dtype);
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
