// Gradient averaging for data-parallel training as PyTorch's DistributedDataParallel does it (Li et al. 2020,
// "PyTorch Distributed", §3.2): parameters are grouped into buckets in reverse order of definition, roughly the
// order backward produces their gradients; a bucket's all-reduce starts as soon as its last gradient is ready,
// while backward goes on with the layers below, and buckets start in the same order on every rank.

import { onGradReady } from '../tensor/autograd.js';
import { keep } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';
import type { Collective, PendingOp } from './distributed.js';

/** Copies rank 0's values of params into every rank's (the same initial weights everywhere). */
export async function broadcastParameters(world: Collective, params: readonly Tensor[]): Promise<void> {
  const flat = new Float32Array(params.reduce((n, p) => n + p.size, 0));
  let offset = 0;
  if (world.rank === 0) for (const p of params) { flat.set(await p.data() as Float32Array, offset); offset += p.size; }
  await world.broadcast(flat, 0, "the broadcast of rank 0's initial weights");
  offset = 0;
  for (const p of params) { p.assign(flat.subarray(offset, offset + p.size)); offset += p.size; }
}

/** One bucket: its parameters, where each one's gradient sits in the flat buffer, and its all-reduce. */
interface Bucket { params: Tensor[]; offsets: number[]; buffer: Float32Array; missing: number; op: PendingOp | null; }

/** Sums the gradients of every rank's parameters, weighted, in buckets that overlap backward. */
export class GradientBuckets {
  private readonly buckets: Bucket[] = [];
  private readonly home = new Map<Tensor, { bucket: Bucket; offset: number }>();
  private readonly ready = new Set<Tensor>();
  private readonly removeHooks: Array<() => void> = [];
  private next = 0;
  private weight = 1;

  /** Buckets of about bucketBytes (default 4 MiB) over params, hooked to their gradients becoming ready. */
  constructor(params: readonly Tensor[], private readonly world: Collective, bucketBytes = 4 << 20) {
    const device = params.find((p) => p.storage.backend.readSync === null);
    if (device !== undefined) {
      throw new Error(`data-parallel training reads gradients on the host as backward makes them: it runs on the native or ts backend, not '${device.storage.backend.name}'`);
    }
    let group: Tensor[] = [];
    let floats = 0;
    const close = () => {
      const offsets = group.map((_, i) => group.slice(0, i).reduce((n, p) => n + p.size, 0));
      const bucket: Bucket = { params: group, offsets, buffer: new Float32Array(floats), missing: 0, op: null };
      group.forEach((p, i) => this.home.set(p, { bucket, offset: offsets[i]! }));
      this.buckets.push(bucket);
      group = [];
      floats = 0;
    };
    for (const p of [...params].reverse()) {
      group.push(p);
      floats += p.size;
      if (floats * 4 >= bucketBytes) close();
    }
    if (group.length > 0) close();
    for (const p of params) this.removeHooks.push(onGradReady(p, (leaf) => this.gradReady(leaf)));
  }

  /** Starts a step in which this rank's gradients count with `weight` (its share of the global batch's tokens). */
  begin(weight: number): void {
    this.weight = weight;
    this.ready.clear();
    this.next = 0;
    for (const b of this.buckets) { b.missing = b.params.length; b.op = null; }
  }

  /** Copies a ready gradient, weighted, into its bucket, and starts the buckets now complete. */
  private gradReady(leaf: Tensor): void {
    const { bucket, offset } = this.home.get(leaf)!;
    if (!this.ready.has(leaf)) { this.ready.add(leaf); bucket.missing--; }
    const g = leaf.grad!.toArray() as Float32Array;
    for (let i = 0; i < g.length; i++) bucket.buffer[offset + i] = g[i]! * this.weight;
    this.startCompleted();
    this.world.progress();
  }

  /** Starts, in bucket order, every bucket whose gradients are all in. */
  private startCompleted(): void {
    while (this.next < this.buckets.length && this.buckets[this.next]!.missing === 0) {
      const b = this.buckets[this.next++]!;
      b.op = this.world.startAllreduce(b.buffer);
    }
  }

  /**
   * After backward: zeros for the gradients this rank did not produce, waits for every bucket and writes the sums
   * back as .grad; then sums this rank's weighted loss and `stop` votes. Returns the global loss and whether any rank voted to stop.
   */
  async finish(localLoss: number, stop: boolean): Promise<{ loss: number; stop: boolean }> {
    for (const [p, { bucket, offset }] of this.home) {
      if (this.ready.has(p)) continue;
      bucket.buffer.fill(0, offset, offset + p.size);
      bucket.missing--;
    }
    this.ready.clear();
    this.startCompleted();
    for (const [k, b] of this.buckets.entries()) {
      await this.world.wait(b.op!, `the all-reduce of gradient bucket ${k + 1} of ${this.buckets.length}`);
      b.params.forEach((p, i) => {
        const sum = b.buffer.subarray(b.offsets[i]!, b.offsets[i]! + p.size);
        if (p.grad !== null && !p.grad.isDisposed) p.grad.assign(sum);
        else p.grad = keep(Tensor.fromHost(sum.slice(), p.shape));
      });
    }
    const scalars = Float32Array.of(localLoss * this.weight, stop ? 1 : 0);
    await this.world.wait(this.world.startAllreduce(scalars), 'the all-reduce of the loss');
    return { loss: scalars[0]!, stop: scalars[1]! > 0 };
  }

  /** Removes the gradient hooks. */
  dispose(): void {
    for (const remove of this.removeHooks) remove();
  }
}
