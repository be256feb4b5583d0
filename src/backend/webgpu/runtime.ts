/// <reference types="@webgpu/types" />
// The WebGPU command runtime: compiles each kernel once (by name, which names its specialization), records
// dispatches into one command encoder with their parameters in a ring of 256-byte uniform slots, and submits
// before anything that must see the results (a read, a host write, a full ring). Errors that WebGPU reports
// asynchronously (a WGSL compile error, out of memory, device loss) are kept and thrown by the next call.

import type { RowTeams } from './rows.js';
import { packParams, PARAM_SLOT_BYTES, type ParamLayout, type ParamValue } from './params.js';

/** A compute kernel: WGSL entry `main` with the uniform `p: Params` at binding 0 and `buffers` storage buffers at 1... */
export interface Kernel {
  /** Unique per specialization; shown in compile errors. */
  readonly name: string;
  readonly params: ParamLayout;
  readonly buffers: number;
  /** The WGSL after the Params struct and its binding (buffer bindings and `main`). */
  readonly code: string;
  /** Directives (`enable`, `diagnostic`) that open the module, if any. */
  readonly directives?: string;
}

/** Dispatches queued before a submit (the size of the parameter ring). */
const RING_SLOTS = 1024;

/** WGSL shared by every kernel: NaN and infinity (from private vars: constant expressions may not hold them) and bit tests for them. */
const PRELUDE = `
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;
fn nan() -> f32 { return bitcast<f32>(NAN_BITS); }
fn inf() -> f32 { return bitcast<f32>(INF_BITS); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_neg_inf(x: f32) -> bool { return bitcast<u32>(x) == 0xff800000u; }
`;

const kernels = new Map<string, Kernel>();

/** The kernel `name` (one per specialization), made by `make` on first use. */
export function defineKernel(name: string, make: () => Omit<Kernel, 'name'>): Kernel {
  let k = kernels.get(name);
  if (k === undefined) kernels.set(name, (k = { name, ...make() }));
  return k;
}

/** The WGSL line binding storage buffer `i` (1-based after the params) as `name: type`. */
export function storage(i: number, name: string, type: string): string {
  return `@group(0) @binding(${i}) var<storage, read_write> ${name}: ${type};\n`;
}

/** Workgroup counts (x, y) covering `threads` threads in groups of `size`, within the 65535-per-dimension limit. */
export function grid(threads: number, size = 256): [number, number] {
  const groups = Math.max(1, Math.ceil(threads / size));
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x)];
}

/** WGSL for the flat index of a thread dispatched through grid() (needs `wid`, `nwg`, `lid` builtins). */
export const FLAT_INDEX = '(wid.y * nwg.x + wid.x) * 256u + lid.x';

/** The builtins FLAT_INDEX reads, for a `main` signature. */
export const FLAT_BUILTINS = '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>';

const STORAGE_LINE = /@group\(0\) @binding\((\d+)\) var<storage, read_write> (\w+): ([^;]+);\n/g;

/**
 * The variant of kernel `k` whose operands share bindings as `slot` says (operand i binds unique buffer slot[i]):
 * WebGPU refuses one buffer bound twice where either binding is writable, so an operand that aliases an earlier
 * one (an in-place op) reads and writes through the earlier one's binding, under the same type.
 */
function aliased(k: Kernel, slot: readonly number[]): Kernel {
  const name = `${k.name}[${slot.join(',')}]`;
  const known = aliasedKernels.get(name);
  if (known !== undefined) return known;
  const decls = [...k.code.matchAll(STORAGE_LINE)].map((m) => ({ binding: Number(m[1]), name: m[2]!, type: m[3]! }));
  let code = k.code.replace(STORAGE_LINE, '');
  const first = new Map<number, { name: string; type: string }>();
  decls.forEach((d) => {
    const s = slot[d.binding - 1]!;
    const owner = first.get(s);
    if (owner === undefined) { first.set(s, d); code = storage(s + 1, d.name, d.type) + code; return; }
    if (owner.type !== d.type) throw new Error(`kernel '${k.name}': operands ${owner.name} and ${d.name} share a buffer but not a type (${owner.type}, ${d.type})`);
    code = code.replace(new RegExp(`\\b${d.name}\\b`, 'g'), owner.name);
  });
  const variant = { ...k, name, buffers: first.size, code };
  aliasedKernels.set(name, variant);
  return variant;
}
const aliasedKernels = new Map<string, Kernel>();

/** One device's pipelines, command recording and error state. */
export class Runtime {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<number, GPUBindGroupLayout>();
  private readonly ring: GPUBuffer;
  private readonly ringHost = new DataView(new ArrayBuffer(RING_SLOTS * PARAM_SLOT_BYTES));
  private slots = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly pending = new Set<Promise<void>>();
  private compileError: Error | null = null;
  private error: Error | null = null;
  private lostError: Error | null = null;
  private disposed = false;
  private readonly doomed: GPUBuffer[] = [];
  /** A 16-byte buffer bound where a kernel's optional operand is absent (its flag says not to read it). */
  readonly placeholder: GPUBuffer;

  /** A runtime on `device` whose row kernels split rows among threads as `rows` says (see rows.ts). */
  constructor(readonly device: GPUDevice, readonly rows: RowTeams) {
    this.placeholder = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'aiayn placeholder' });
    this.ring = device.createBuffer({ size: RING_SLOTS * PARAM_SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'aiayn params' });
    void device.lost.then((info) => {
      if (!this.disposed) this.lostError = new Error(`WebGPU device lost (${info.reason}): ${info.message || 'no message'}; create a new backend`);
    });
    device.addEventListener('uncapturederror', (ev) => {
      this.error ??= new Error(`WebGPU error: ${(ev as GPUUncapturedErrorEvent).error.message}`);
    });
  }

  /** Throws the device loss, a kernel's compile error or another reported error, if any (each reported once). */
  check(): void {
    if (this.disposed) throw new Error('WebGPU backend used after dispose()');
    if (this.lostError !== null) throw this.lostError;
    const err = this.compileError ?? this.error;
    this.compileError = null;
    this.error = null;
    if (err !== null) throw err;
  }

  /** Keeps an error found asynchronously for the next check(). */
  report(err: Error): void {
    this.error ??= err;
  }

  /** Runs `make` inside an error scope of `filter`; an error becomes `describe(message)` for the next check(). */
  scoped<T>(filter: GPUErrorFilter, make: () => T, describe: (message: string) => Error): T {
    this.device.pushErrorScope(filter);
    const made = make();
    this.track(this.device.popErrorScope().then((e) => { if (e !== null) this.report(describe(e.message)); }));
    return made;
  }

  /** Waits for the asynchronous error reports issued so far, then throws any (a read calls this before returning). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    this.check();
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((e: unknown) => this.report(e instanceof Error ? e : new Error(String(e)))).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** The bind group layout of a kernel with n storage buffers (uniform params at binding 0). */
  private layout(n: number): GPUBindGroupLayout {
    let l = this.layouts.get(n);
    if (l === undefined) {
      const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } }];
      for (let i = 1; i <= n; i++) entries.push({ binding: i, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } });
      l = this.device.createBindGroupLayout({ entries });
      this.layouts.set(n, l);
    }
    return l;
  }

  /** The compiled pipeline of a kernel (compiled on first use; a WGSL error is reported under the kernel's name). */
  private pipeline(k: Kernel): GPUComputePipeline {
    let p = this.pipelines.get(k.name);
    if (p !== undefined) return p;
    const code = `${k.directives ?? ''}${PRELUDE}${k.params.wgsl}@group(0) @binding(0) var<uniform> p: Params;\n${k.code}`;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: k.name });
    p = this.device.createComputePipeline({
      label: k.name, compute: { module, entryPoint: 'main' },
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.layout(k.buffers)] }),
    });
    this.track(this.device.popErrorScope().then(async (e) => {
      if (e === null) return;
      const info = await module.getCompilationInfo();
      const lines = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}`);
      this.compileError ??= new Error(`WebGPU kernel '${k.name}' failed to compile: ${lines.length > 0 ? lines.join('; ') : e.message}`);
    }));
    this.pipelines.set(k.name, p);
    return p;
  }

  /** Records a dispatch of kernel `k` over `groups` workgroups with its parameters and storage buffers. */
  dispatch(k: Kernel, params: Record<string, ParamValue>, buffers: readonly GPUBuffer[], groups: readonly [number, number?, number?]): void {
    if (buffers.length !== k.buffers) throw new Error(`kernel '${k.name}' takes ${k.buffers} buffers, got ${buffers.length}`);
    const unique = [...new Set(buffers)];
    const kernel = unique.length === buffers.length ? k : aliased(k, buffers.map((b) => unique.indexOf(b)));
    if (this.slots === RING_SLOTS) this.flush();
    const pipeline = this.pipeline(kernel);
    const slot = this.slots++;
    packParams(k.params, params, this.ringHost, slot * PARAM_SLOT_BYTES);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.ring, offset: slot * PARAM_SLOT_BYTES, size: PARAM_SLOT_BYTES } }];
    unique.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const group = this.device.createBindGroup({ layout: this.layout(unique.length), entries });
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
  }

  private computePass(): GPUComputePassEncoder {
    if (this.pass === null) this.pass = this.commands().beginComputePass();
    return this.pass;
  }

  /** The open command encoder for copies and clears (ends an open compute pass). */
  commands(): GPUCommandEncoder {
    if (this.pass !== null) { this.pass.end(); this.pass = null; }
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Destroys `buffer` once the commands recorded so far are submitted (they may still use it). */
  destroyLater(buffer: GPUBuffer): void {
    if (this.encoder === null) buffer.destroy();
    else this.doomed.push(buffer);
  }

  /** Submits everything recorded so far (the parameters first). */
  flush(): void {
    if (this.encoder === null) return;
    const enc = this.commands();
    if (this.slots > 0) this.device.queue.writeBuffer(this.ring, 0, this.ringHost.buffer, 0, this.slots * PARAM_SLOT_BYTES);
    this.device.queue.submit([enc.finish()]);
    this.encoder = null;
    this.slots = 0;
    for (const b of this.doomed.splice(0)) b.destroy();
  }

  /** Submits and waits until the device has finished all work so far. */
  async finish(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.settle();
  }

  /** Destroys the device (a later call throws). */
  dispose(): void {
    if (this.disposed) return;
    if (this.lostError === null) this.flush();
    this.disposed = true;
    this.device.destroy();
  }
}
