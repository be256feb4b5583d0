// The Tensor: a view (shape, strides, offset) on a Storage that its backend owns, plus what autograd needs
// (requiresGrad, grad, the node that made it). Methods are thin forwards to the op functions in ./ops. Values
// reach JavaScript through `await t.data()` on every backend, or synchronously (toArray, item) on host backends.

import type { BackendName, Dense, HostArray, Strided } from '../backend/backend.js';
import { getBackend, initBackend, withBackend } from '../backend/index.js';
import { runBackward, type GradNode } from './autograd.js';
import { contiguousStrides, fmt, isContiguous, sizeOf } from './layout.js';
import { keep, track } from './memory.js';
import * as ew from './ops/elementwise.js';
import * as mm from './ops/matmul.js';
import * as nn from './ops/nn.js';
import * as red from './ops/reduce.js';
import * as sh from './ops/shape.js';
import { allocStorage, type DType, type Storage } from './storage.js';

/** A float32 or int32 n-dimensional array with reverse-mode autograd. */
export class Tensor {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly storage: Storage;
  /** Whether gradients flow to (and, for leaves, accumulate in) this tensor. */
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf, after backward(). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, or null for a leaf. */
  node: GradNode | null = null;
  /** The value every element holds when full() made it and no kernel wrote it since (lets a backward skip a read). */
  constant: number | null = null;
  private disposed = false;

  constructor(storage: Storage, shape: readonly number[], strides?: readonly number[], offset = 0, requiresGrad = false) {
    this.storage = storage;
    this.shape = shape;
    this.strides = strides ?? contiguousStrides(shape);
    this.offset = offset;
    this.requiresGrad = requiresGrad;
    storage.retain();
    track(this);
  }

  /** A new dense tensor of the given shape (contents undefined unless `zero`). */
  static empty(shape: readonly number[], dtype: DType = 'float32', zero = false): Tensor {
    let storage: Storage;
    try {
      storage = allocStorage(sizeOf(shape), dtype, zero);
    } catch (err) {
      throw new Error(`cannot allocate a ${dtype} tensor of shape ${fmt(shape)} (${sizeOf(shape) * 4} bytes) on the ${getBackend().name} backend: ${(err as Error).message}`);
    }
    return new Tensor(storage, [...shape]);
  }

  /** Element type. */
  get dtype(): DType { return this.storage.dtype; }
  /** Number of elements. */
  get size(): number { return sizeOf(this.shape); }
  /** Number of dimensions. */
  get rank(): number { return this.shape.length; }
  /** True once disposed. */
  get isDisposed(): boolean { return this.disposed; }

  /** A new dense tensor holding host values (copied to the current backend). */
  static fromHost(values: HostArray, shape: readonly number[]): Tensor {
    const dtype = values instanceof Int32Array ? 'int32' : 'float32';
    if (values.length !== sizeOf(shape)) throw new Error(`fromHost: ${values.length} values do not fill shape ${fmt(shape)}`);
    const t = Tensor.empty(shape, dtype);
    t.storage.backend.write(t.dense(), values);
    if (dtype === 'int32' && t.storage.backend.readSync === null) t.storage.hostIds = values as Int32Array;
    return t;
  }

  /** Overwrites this dense tensor's elements with host values in place (no autograd): loading and initialising. */
  assign(values: HostArray): this {
    if (!this.isContiguous() || values.length !== this.size || (values instanceof Int32Array) !== (this.dtype === 'int32')) {
      throw new Error(`assign: ${values.length} ${values instanceof Int32Array ? 'int32' : 'float32'} values for a ${this.isContiguous() ? 'dense' : 'strided'} ${this.dtype} tensor of shape ${fmt(this.shape)}`);
    }
    this.storage.backend.write(this.dense('assign'), values);
    this.constant = null;
    if (this.dtype === 'int32' && this.storage.backend.readSync === null) this.storage.hostIds = this.offset === 0 && this.size === this.storage.size ? values as Int32Array : null;
    return this;
  }

  /** Where this tensor's elements start in its storage, as a kernel operand; checks it is alive and usable here. */
  dense(op = 'kernel'): Dense {
    this.assertAlive(op);
    const current = getBackend();
    const own = this.storage.backend;
    if (own !== current && (own.memory !== 'host' || current.memory !== 'host')) {
      throw new Error(`${op}: tensor of shape ${fmt(this.shape)} lives on the '${own.name}' backend, but '${current.name}' runs; move it with await t.to('${current.name}')`);
    }
    return { buf: this.storage.buf, offset: this.offset };
  }

  /** This tensor as a strided kernel operand. */
  strided(op = 'kernel'): Strided {
    return { ...this.dense(op), strides: this.strides };
  }

  /** True when dense row-major with no offset games (kernels can read `data` directly from `offset`). */
  isContiguous(): boolean { return isContiguous(this.shape, this.strides); }

  /** Throws when the tensor was disposed. */
  assertAlive(op: string): void {
    if (this.disposed) throw new Error(`${op}: tensor of shape ${fmt(this.shape)} was disposed`);
  }

  /** Releases the storage (back to the pool once no view uses it). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.storage.release();
  }

  /** Exempts this tensor from enclosing tidy scopes. */
  keep(): this { return keep(this); }

  /** Logical contents as a new dense typed array, read asynchronously: works on every backend. */
  async data(): Promise<HostArray> {
    this.assertAlive('data');
    const own = this.storage.backend;
    const t = withBackend(own, () => this.contiguous()); // on the tensor's own backend, whichever runs now
    const out = await own.read({ buf: t.storage.buf, offset: t.offset }, t.size, t.dtype);
    if (t !== this) t.dispose();
    return out;
  }

  /** Logical contents as a new dense typed array, synchronously: host backends only (elsewhere await t.data()). */
  toArray(): HostArray {
    this.assertAlive('toArray');
    const read = this.storage.backend.readSync;
    if (read === null) throw new Error(`toArray: the '${this.storage.backend.name}' backend reads asynchronously; use await t.data()`);
    const t = withBackend(this.storage.backend, () => this.contiguous());
    const out = read({ buf: t.storage.buf, offset: t.offset }, t.size, t.dtype);
    if (t !== this) t.dispose();
    return out;
  }

  /** Logical contents as nested JavaScript arrays (host backends; elsewhere await t.array()). */
  toNested(): unknown {
    return nest(this.toArray(), this.shape);
  }

  /** Logical contents as nested JavaScript arrays, read asynchronously. */
  async array(): Promise<unknown> {
    return nest(await this.data(), this.shape);
  }

  /** The single value of a one-element tensor (host backends; elsewhere await t.itemAsync()). */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${fmt(this.shape)} has ${this.size} elements, not 1`);
    if (this.storage.backend.readSync === null) throw new Error(`item: the '${this.storage.backend.name}' backend reads asynchronously; use await t.itemAsync()`);
    return this.toArray()[0]!;
  }

  /** The single value of a one-element tensor, read asynchronously. */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) throw new Error(`itemAsync: tensor of shape ${fmt(this.shape)} has ${this.size} elements, not 1`);
    return (await this.data())[0]!;
  }

  /**
   * The int32 values as a dense host array when they can be had without waiting (a host backend, or ids written
   * from the host), else null: for the checks that must run before a kernel does (ids in range).
   */
  hostIds(): Int32Array | null {
    if (this.dtype !== 'int32') throw new Error(`hostIds: tensor of shape ${fmt(this.shape)} is float32, not int32`);
    if (this.storage.backend.readSync !== null) return this.toArray() as Int32Array;
    const ids = this.storage.hostIds;
    return ids !== null && this.offset === 0 && this.size === ids.length && this.isContiguous() ? ids : null;
  }

  /** A copy of this tensor on the named backend (initialised on first use); the same values, detached. */
  async to(name: BackendName): Promise<Tensor> {
    const target = await initBackend(name);
    const values = await this.data();
    return withBackend(target, () => Tensor.fromHost(values, this.shape));
  }

  /** Back-propagates from this tensor (a scalar, or any shape with a gradient of that shape). */
  backward(grad?: Tensor): void {
    runBackward(this, grad, (shape) => ew.full(shape, 1), accumulateLeafGrad, ew.add, { merge: sh.mergePartialGrads, complete: sh.completeGrad });
  }

  /** A tensor sharing storage but cut from the graph. */
  detach(): Tensor { return new Tensor(this.storage, this.shape, this.strides, this.offset); }

  /** Sets requiresGrad (for leaves) and returns this. */
  requireGrad(on = true): this {
    if (this.node !== null) throw new Error('requireGrad: only leaf tensors can be marked; use detach() first');
    if (on && this.dtype !== 'float32') throw new Error(`requireGrad: int32 tensors of shape ${fmt(this.shape)} cannot require grad`);
    this.requiresGrad = on;
    return this;
  }

  /** Clears the accumulated gradient. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  add(other: Tensor | number): Tensor { return ew.add(this, other); }
  sub(other: Tensor | number): Tensor { return ew.sub(this, other); }
  mul(other: Tensor | number): Tensor { return ew.mul(this, other); }
  div(other: Tensor | number): Tensor { return ew.div(this, other); }
  pow(other: Tensor | number): Tensor { return ew.pow(this, other); }
  maximum(other: Tensor | number): Tensor { return ew.maximum(this, other); }
  minimum(other: Tensor | number): Tensor { return ew.minimum(this, other); }
  eq(other: Tensor | number): Tensor { return ew.eq(this, other); }
  ne(other: Tensor | number): Tensor { return ew.ne(this, other); }
  lt(other: Tensor | number): Tensor { return ew.lt(this, other); }
  le(other: Tensor | number): Tensor { return ew.le(this, other); }
  gt(other: Tensor | number): Tensor { return ew.gt(this, other); }
  ge(other: Tensor | number): Tensor { return ew.ge(this, other); }
  neg(): Tensor { return ew.neg(this); }
  exp(): Tensor { return ew.exp(this); }
  log(): Tensor { return ew.log(this); }
  sqrt(): Tensor { return ew.sqrt(this); }
  tanh(): Tensor { return ew.tanh(this); }
  relu(): Tensor { return ew.relu(this); }
  sigmoid(): Tensor { return ew.sigmoid(this); }
  abs(): Tensor { return ew.abs(this); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return ew.gelu(this, approximate); }
  maskedFill(mask: Tensor, value: number): Tensor { return ew.maskedFill(this, mask, value); }

  sum(axes?: number | number[], keepdim = false): Tensor { return red.sum(this, axes, keepdim); }
  mean(axes?: number | number[], keepdim = false): Tensor { return red.mean(this, axes, keepdim); }
  max(axis: number, keepdim = false): Tensor { return red.max(this, axis, keepdim); }
  argmax(axis: number, keepdim = false): Tensor { return red.argmax(this, axis, keepdim); }

  matmul(other: Tensor): Tensor { return mm.matmul(this, other); }
  softmax(axis = -1, opts: nn.SoftmaxOptions = {}): Tensor { return nn.softmax(this, axis, opts); }
  logSoftmax(axis = -1, opts: nn.SoftmaxOptions = {}): Tensor { return nn.logSoftmax(this, axis, opts); }

  reshape(shape: readonly number[]): Tensor { return sh.reshape(this, shape); }
  transpose(a = -2, b = -1): Tensor { return sh.transpose(this, a, b); }
  permute(order: readonly number[]): Tensor { return sh.permute(this, order); }
  slice(axis: number, start: number, end?: number): Tensor { return sh.slice(this, axis, start, end); }
  expand(shape: readonly number[]): Tensor { return sh.expand(this, shape); }
  unsqueeze(axis: number): Tensor { return sh.unsqueeze(this, axis); }
  squeeze(axis: number): Tensor { return sh.squeeze(this, axis); }
  contiguous(): Tensor { return sh.contiguous(this); }

  /** Short description for debugging. */
  toString(): string { return `Tensor(${this.dtype}, ${fmt(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''})`; }
}

/**
 * leaf.grad += g. The first time, a dense g that backward alone holds (`owned`) becomes leaf.grad itself (kept;
 * returns true); otherwise g is copied into a kept buffer.
 */
function accumulateLeafGrad(leaf: Tensor, g: Tensor, owned: boolean): boolean {
  const backend = getBackend();
  if (leaf.grad === null || leaf.grad.isDisposed) {
    if (owned && g.offset === 0 && g.dtype === 'float32' && isContiguous(g.shape, g.strides) && g.shape.join() === leaf.shape.join()) {
      leaf.grad = keep(g);
      return true;
    }
    const copy = keep(Tensor.empty(leaf.shape));
    backend.copy(g.strided(), copy.strided(), leaf.shape, 'float32');
    leaf.grad = copy;
  } else {
    backend.binary('add', leaf.grad.strided(), g.strided(), leaf.shape, leaf.grad.dense());
    leaf.grad.constant = null;
  }
  return false;
}

/** Flat values laid out as nested arrays of `shape`. */
function nest(flat: HostArray, shape: readonly number[]): unknown {
  const build = (dim: number, start: number): unknown => {
    if (dim === shape.length) return flat[start];
    const stride = sizeOf(shape.slice(dim + 1));
    return Array.from({ length: shape[dim]! }, (_, i) => build(dim + 1, start + i * stride));
  };
  return build(0, 0);
}
