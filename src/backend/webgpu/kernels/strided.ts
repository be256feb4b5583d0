// Strided operands on the GPU: the host merges dimensions every operand walks contiguously (and drops size-1
// dimensions) so the kernel's index arithmetic loops over as few as possible, and the WGSL that turns a flat
// row-major index into each operand's element offset. Mirrors src/backend/strided.ts's walk.

/** Most dimensions a strided kernel takes after merging. */
export const MAX_RANK = 8;

/** shape and per-operand strides with mergeable dimensions merged; rank <= MAX_RANK or throws naming the kernel. */
export function coalesce(kernel: string, shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    // dimension d folds into the previous kept one when every operand steps over it exactly as a row of it
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * n)) {
      outShape[last]! *= n;
      strides.forEach((s, k) => { outStrides[k]![last] = s[d]!; });
      continue;
    }
    outShape.push(n);
    strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
  }
  if (outShape.length > MAX_RANK) throw new Error(`webgpu ${kernel}: ${outShape.length} dimensions after merging, at most ${MAX_RANK}`);
  return { shape: outShape, strides: outStrides };
}

/**
 * WGSL declaring `o<k>` = operand k's element offset (i32) of flat index `i` (u32), from params `rank`,
 * `shape`, `off<k>` and `s<k>` (see coalesce).
 */
export function offsetsWgsl(count: number, i: string): string {
  const ks = [...Array(count).keys()];
  return `${ks.map((k) => `var o${k} = p.off${k};`).join(' ')}
  var rem = ${i};
  for (var d = p.rank; d > 0u; d--) {
    let e = d - 1u;
    let n = p.shape[e / 4u][e % 4u];
    let c = i32(rem % n);
    rem = rem / n;
    ${ks.map((k) => `o${k} += c * p.s${k}[e / 4u][e % 4u];`).join(' ')}
  }`;
}
