/// <reference types="@webgpu/types" />
// Device memory of the WebGPU backend: GPUBuffers (STORAGE | COPY_SRC | COPY_DST) from a pool keyed by size class,
// so a training loop reuses the same buffers every step. Both dtypes live in the same buffers (4-byte elements;
// kernels view them as f32, i32 or u32). Reads go through a MAP_READ staging buffer; out of memory is caught by
// an error scope and reported, with the size, by the next call.

import type { BufferHandle, DType } from '../backend.js';
import { sizeClass } from '../size-class.js';
import type { Runtime } from './runtime.js';

/** A WebGPU backend buffer: the GPUBuffer and how many 4-byte elements it holds. */
export class DeviceBuffer {
  constructor(readonly buffer: GPUBuffer, readonly elements: number) {}
}

/** The DeviceBuffer behind a handle; throws naming the problem when it belongs to another backend. */
export function gpuBuffer(h: BufferHandle): GPUBuffer {
  if (h instanceof DeviceBuffer) return h.buffer;
  throw new Error(`webgpu: operand is not a WebGPU buffer (a ${h.constructor.name}); move the tensor to the webgpu backend first`);
}

/** A size-class pool of device buffers. */
export class DevicePool {
  private readonly free = new Map<number, DeviceBuffer[]>();
  private pooledBytes = 0;

  /** `limitBytes`: most bytes parked in the pool; beyond that freed buffers are destroyed. */
  constructor(private readonly rt: Runtime, private readonly limitBytes: number) {}

  /** A buffer of at least n elements (zeroed when `zero`). */
  alloc(n: number, zero: boolean): DeviceBuffer {
    const elements = Math.max(4, sizeClass(n));
    const bytes = elements * 4;
    const reused = this.free.get(elements)?.pop();
    if (reused !== undefined) {
      this.pooledBytes -= bytes;
      if (zero) this.rt.commands().clearBuffer(reused.buffer, 0, bytes);
      return reused;
    }
    const limits = this.rt.device.limits;
    if (bytes > limits.maxBufferSize) {
      throw new Error(`webgpu: a buffer of ${bytes} bytes exceeds this device's maxBufferSize (${limits.maxBufferSize} bytes)`);
    }
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = this.rt.scoped('out-of-memory', () => this.rt.device.createBuffer({ size: bytes, usage }),
      (msg) => new Error(`webgpu: out of memory allocating a buffer of ${bytes} bytes (${msg})`));
    return new DeviceBuffer(buffer, elements); // new buffers are zeroed by WebGPU
  }

  /**
   * Parks a buffer for reuse, or destroys it when the pool is full. Commands already recorded may still use it:
   * its next user's commands come after them in the queue, and a destroy waits for their submit.
   */
  release(b: DeviceBuffer): void {
    const bytes = b.elements * 4;
    if (this.pooledBytes + bytes > this.limitBytes) { this.rt.destroyLater(b.buffer); return; }
    let list = this.free.get(b.elements);
    if (list === undefined) this.free.set(b.elements, (list = []));
    list.push(b);
    this.pooledBytes += bytes;
  }

  /** Runs `use` with a scratch buffer of n elements, released when it returns (its commands are only recorded). */
  scratch<T>(n: number, use: (buffer: GPUBuffer) => T): T {
    const b = this.alloc(n, false);
    try {
      return use(b.buffer);
    } finally {
      this.release(b);
    }
  }

  /** Destroys every pooled buffer. */
  clear(): void {
    for (const list of this.free.values()) for (const b of list) this.rt.destroyLater(b.buffer);
    this.free.clear();
    this.pooledBytes = 0;
  }
}

/** Reads n 4-byte elements from element `offset` of `buffer` into a new host array of `dtype`. */
export async function readBuffer(rt: Runtime, buffer: GPUBuffer, offset: number, n: number, dtype: DType): Promise<Float32Array | Int32Array> {
  if (n === 0) return dtype === 'float32' ? new Float32Array(0) : new Int32Array(0);
  const bytes = n * 4;
  const staging = rt.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  rt.commands().copyBufferToBuffer(buffer, offset * 4, staging, 0, bytes);
  rt.flush();
  try {
    await staging.mapAsync(GPUMapMode.READ);
    const copy = staging.getMappedRange().slice(0);
    staging.unmap();
    await rt.settle();
    return dtype === 'float32' ? new Float32Array(copy) : new Int32Array(copy);
  } catch (err) {
    rt.check();
    throw err;
  } finally {
    staging.destroy();
  }
}
