/// <reference types="@webgpu/types" />
// WebGPU adapter and device acquisition: navigator.gpu in browsers, the `webgpu` package (Dawn) in Node. On Linux
// without a GPU driver, Chromium's SwiftShader Vulkan ICD is added to the Vulkan loader's drivers (never in place of
// them, so a real GPU still wins) when it is installed, so tests run on any machine with Debian's chromium.

/** What the backend knows about the adapter it runs on. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (SwiftShader, lavapipe, WARP or a fallback adapter): correct but not GPU speed. */
  software: boolean;
  features: string[];
  /** The largest subgroup when the device was opened with the `subgroups` feature, else null. */
  subgroupMaxSize: number | null;
}

/** A device and the adapter it came from. */
export interface Acquired { device: GPUDevice; adapter: AdapterReport; }

/** Options of acquireDevice. */
export interface DeviceOptions {
  /** 'high-performance' (default) or 'low-power'. */
  powerPreference?: GPUPowerPreference;
  /** Open the device with the adapter's `subgroups` feature when it has one (default true; false: the reference path). */
  subgroups?: boolean;
}

/** Where Debian's chromium keeps SwiftShader's Vulkan ICD. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

type NodeProcess = { platform: string; env: Record<string, string | undefined>; getuid?: () => number };

/** The Node process object, or undefined in a browser. */
function nodeProcess(): NodeProcess | undefined {
  return (globalThis as { process?: NodeProcess }).process;
}

/** Sets the Vulkan loader's defaults (SwiftShader as an extra driver, a runtime dir) when unset, on Linux. */
async function vulkanDefaults(proc: NodeProcess): Promise<void> {
  if (proc.platform !== 'linux') return;
  const fs = await import('node:fs');
  const env = proc.env;
  const chosen = env['VK_ICD_FILENAMES'] ?? env['VK_DRIVER_FILES'] ?? env['VK_ADD_DRIVER_FILES'];
  if (chosen === undefined && fs.existsSync(SWIFTSHADER_ICD)) env['VK_ADD_DRIVER_FILES'] = SWIFTSHADER_ICD;
  if (env['XDG_RUNTIME_DIR'] === undefined) {
    const dir = `/tmp/aiayn-xdg-${proc.getuid?.() ?? 0}`;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    env['XDG_RUNTIME_DIR'] = dir;
  }
}

/** Dawn's entry point once made: the process keeps it (collected, it would take its devices' event loop along). */
let dawnGpu: GPU | undefined;

/** The GPU entry point: navigator.gpu, or Dawn's through the `webgpu` package in Node. */
async function gpuEntry(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu !== undefined) return nav.gpu;
  const proc = nodeProcess();
  if (proc === undefined) throw new Error('WebGPU unavailable: this browser has no navigator.gpu');
  await vulkanDefaults(proc);
  let mod: { create(options: string[]): GPU; globals: object };
  try {
    mod = (await import('webgpu')) as typeof mod;
  } catch (err) {
    throw new Error(`WebGPU unavailable: the optional 'webgpu' package did not load (${err instanceof Error ? err.message : String(err)})`);
  }
  Object.assign(globalThis, mod.globals); // GPUBufferUsage, GPUMapMode, ... as in a browser
  dawnGpu ??= mod.create([]);
  return dawnGpu;
}

/** Whether an adapter is a CPU implementation, from what it says about itself. */
function isSoftware(info: GPUAdapterInfo): boolean {
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return fallback || /swiftshader|llvmpipe|lavapipe|warp|microsoft basic render|\bcpu\b/.test(text);
}

/** The limits to ask for: the adapter's maxima of the ones the kernels lean on (buffer sizes, shared memory). */
function wantedLimits(adapter: GPUAdapter): Record<string, number> {
  const names = ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage'] as const;
  const out: Record<string, number> = {};
  for (const n of names) out[n] = adapter.limits[n];
  return out;
}

/** Finds an adapter and opens a device on it; throws naming why when there is none. */
export async function acquireDevice(opts: DeviceOptions = {}): Promise<Acquired> {
  const gpu = await gpuEntry();
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (adapter === null) {
    throw new Error('WebGPU unavailable: no adapter found (no GPU driver; on Linux, install libvulkan1 and a Vulkan driver, or chromium for SwiftShader)');
  }
  const info = adapter.info;
  const subgroups = opts.subgroups !== false && adapter.features.has('subgroups');
  const device = await adapter.requestDevice({ requiredLimits: wantedLimits(adapter), requiredFeatures: subgroups ? ['subgroups'] : [] });
  return {
    device,
    adapter: {
      vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
      software: isSoftware(info), features: [...adapter.features].sort(),
      subgroupMaxSize: subgroups ? info.subgroupMaxSize ?? null : null,
    },
  };
}
