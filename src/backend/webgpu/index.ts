/// <reference types="@webgpu/types" />
// The WebGPU backend (project issue 17): the Backend interface of src/backend/backend.ts over device buffers, with
// WGSL kernels mirroring src/backend/ts (kernels/*.ts). Kernels are recorded into a command encoder and submitted
// when a result must be seen (read), so a training step costs few submits; reads are asynchronous (readSync null).

import type { Backend, Dense, DType, HostArrayFor } from '../backend.js';
import { acquireDevice, type AdapterReport, type DeviceOptions } from './device.js';
import { DeviceBuffer, DevicePool, gpuBuffer, readBuffer } from './memory.js';
import { rowTeams } from './rows.js';
import { Runtime } from './runtime.js';
import { adam } from './kernels/adam.js';
import { binary, copy, fill, unary, unaryBackward, where } from './kernels/elementwise.js';
import { dropout, dropoutBackward } from './kernels/dropout.js';
import { embedding, embeddingBackward } from './kernels/embedding.js';
import { gemm } from './kernels/gemm.js';
import { layerNorm, layerNormBackward } from './kernels/layernorm.js';
import { crossEntropy, linearCrossEntropy } from './kernels/loss.js';
import { argmax, reduce } from './kernels/reduce.js';
import { softmax, softmaxBackward } from './kernels/softmax.js';

export type { AdapterReport } from './device.js';

/** Options of createWebGPUBackend. */
export interface WebGPUOptions extends DeviceOptions {
  /** Most bytes of freed buffers kept for reuse (default 1 GiB). */
  poolBytes?: number;
}

/** The WebGPU backend, plus what it runs on and a way to release the device. */
export interface WebGPUBackend extends Backend {
  readonly adapter: AdapterReport;
  /** Waits until the device has run every kernel recorded so far (and throws any error it reported). */
  finish(): Promise<void>;
  /** Destroys the device; the backend cannot be used afterwards. */
  dispose(): void;
}

/** A WebGPU backend on the best adapter found; throws naming why when WebGPU is unavailable. */
export async function createWebGPUBackend(opts: WebGPUOptions = {}): Promise<WebGPUBackend> {
  const { device, adapter } = await acquireDevice(opts);
  const rt = new Runtime(device, rowTeams(adapter.subgroupMaxSize));
  const pool = new DevicePool(rt, opts.poolBytes ?? 2 ** 30);
  /** Wraps a kernel so every call first throws any error the device reported since the last one. */
  const checked = <A extends unknown[], R>(f: (...args: A) => R) => (...args: A): R => { rt.check(); return f(...args); };
  return {
    name: 'webgpu',
    memory: 'device',
    adapter,
    threads: () => 1,
    readSync: null,
    alloc: checked((n: number, _dtype: DType, zero: boolean) => pool.alloc(n, zero)),
    free: (buf) => { if (buf instanceof DeviceBuffer) pool.release(buf); },
    write: checked((dst: Dense, src: Float32Array | Int32Array) => {
      rt.flush(); // kernels recorded before this write must not see it
      rt.device.queue.writeBuffer(gpuBuffer(dst.buf), dst.offset * 4, src.buffer, src.byteOffset, src.byteLength);
    }),
    read: async <D extends DType>(src: Dense, n: number, dtype: D): Promise<HostArrayFor<D>> => {
      rt.check();
      return (await readBuffer(rt, gpuBuffer(src.buf), src.offset, n, dtype)) as HostArrayFor<D>;
    },
    finish: () => rt.finish(),
    dispose: () => { pool.clear(); rt.dispose(); },

    copy: checked((src, dst, shape, dtype) => copy(rt, { src, dst, shape, dtype })),
    fill: checked((out, n, value, dtype) => fill(rt, { out, n, value, dtype })),
    unary: checked((op, x, out, n) => unary(rt, { op, x, out, n })),
    unaryBackward: checked((op, x, y, dy, dx, n) => unaryBackward(rt, { op, x, y, dy, dx, n })),
    binary: checked((op, a, b, shape, out) => binary(rt, { op, a, b, shape, out })),
    where: checked((cond, a, b, shape, out) => where(rt, { cond, a, b, shape, out })),
    reduce: checked((op, x, outer, n, inner, out) => reduce(rt, { op, x, outer, n, inner, out })),
    argmax: checked((x, outer, n, inner, out) => argmax(rt, { x, outer, n, inner, out })),
    gemm: checked((args) => gemm(rt, args)),
    softmax: checked((args) => softmax(rt, args)),
    softmaxBackward: checked((args) => softmaxBackward(rt, args)),
    layerNorm: checked((args) => layerNorm(rt, args)),
    layerNormBackward: checked((args) => layerNormBackward(rt, pool, args)),
    crossEntropy: checked((args) => crossEntropy(rt, pool, args)),
    dropout: checked((args) => dropout(rt, pool, args, false)),
    dropoutBackward: checked((args) => dropoutBackward(rt, args)),
    embedding: checked((args) => embedding(rt, args)),
    embeddingBackward: checked((args) => embeddingBackward(rt, args)),
    adam: checked((args) => adam(rt, args)),
    fused: {
      addLayerNorm: { refuses: () => null, run: checked((a) => layerNorm(rt, a, { y: a.y, sum: a.sum })) },
      linearCrossEntropy: { refuses: () => null, run: checked((a) => linearCrossEntropy(rt, pool, a)) },
      reluDropout: {
        refuses: (a) => (a.p >= 0 && a.p < 1 ? null : `p = ${a.p} is outside [0, 1)`),
        run: checked((a) => dropout(rt, pool, a, true)),
      },
    },
  };
}
