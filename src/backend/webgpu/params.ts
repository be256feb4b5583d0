// Kernel parameters of the WebGPU backend: each kernel declares its scalar parameters once as a field list,
// from which both the WGSL `Params` struct (bound as a uniform) and the host-side packer are made, so the two
// layouts cannot drift apart. Layout follows WGSL's uniform rules: 4-byte scalars, 16-byte-aligned vec4 arrays.

/** A parameter's type: a scalar, or up to 8 values (`u32x8`, `i32x8`) for shapes and strides. */
export type ParamType = 'u32' | 'i32' | 'f32' | 'u32x8' | 'i32x8';

/** The value a parameter takes on the host. */
export type ParamValue = number | readonly number[];

/** A kernel's parameter layout: its WGSL struct and where each field sits in bytes. */
export interface ParamLayout {
  readonly wgsl: string;
  readonly bytes: number;
  readonly fields: readonly { name: string; type: ParamType; at: number }[];
}

/** Most bytes one kernel's parameters take (one uniform slot). */
export const PARAM_SLOT_BYTES = 256;

/** The layout of `fields` (name -> type, in order). */
export function paramLayout(fields: Record<string, ParamType>): ParamLayout {
  let at = 0;
  const placed: { name: string; type: ParamType; at: number }[] = [];
  const lines: string[] = [];
  for (const [name, type] of Object.entries(fields)) {
    const vector = type.endsWith('x8');
    if (vector) at = Math.ceil(at / 16) * 16;
    placed.push({ name, type, at });
    lines.push(`  ${name}: ${vector ? `array<vec4<${type.slice(0, 3)}>, 2>` : type},`);
    at += vector ? 32 : 4;
  }
  const bytes = Math.max(16, Math.ceil(at / 16) * 16);
  if (bytes > PARAM_SLOT_BYTES) throw new Error(`kernel parameters take ${bytes} bytes, more than a ${PARAM_SLOT_BYTES}-byte slot`);
  return { wgsl: `struct Params {\n${lines.join('\n')}\n}\n`, bytes, fields: placed };
}

/** Writes `values` (every field by name) into `view` at byte `base` following `layout`. */
export function packParams(layout: ParamLayout, values: Record<string, ParamValue>, view: DataView, base: number): void {
  for (const f of layout.fields) {
    const v = values[f.name];
    if (v === undefined) throw new Error(`kernel parameter '${f.name}' is missing`);
    if (typeof v === 'number') {
      if (f.type === 'f32') view.setFloat32(base + f.at, v, true);
      else if (f.type === 'i32') view.setInt32(base + f.at, v, true);
      else if (f.type === 'u32') view.setUint32(base + f.at, v >>> 0, true);
      else throw new Error(`kernel parameter '${f.name}' wants ${f.type}, got a number`);
    } else {
      if (v.length > 8) throw new Error(`kernel parameter '${f.name}' holds at most 8 values, got ${v.length}`);
      for (let i = 0; i < 8; i++) {
        const x = v[i] ?? 0;
        if (f.type === 'i32x8') view.setInt32(base + f.at + 4 * i, x, true);
        else view.setUint32(base + f.at + 4 * i, x >>> 0, true);
      }
    }
  }
}
