// Walking strided operands in row-major order of an output shape, the loop every elementwise kernel shares.

/** An operand walked by forEachStrided: an offset and one stride per dimension. */
interface Walked { readonly offset: number; readonly strides: readonly number[]; }

/**
 * Calls `body(i, offsets)` for each output element i (row-major over `shape`) with each operand's element
 * offset. The innermost dimension is a tight loop; outer dimensions advance like an odometer.
 */
export function forEachStrided(shape: readonly number[], operands: readonly Walked[],
  row: (outStart: number, len: number, offsets: Int32Array | number[], lastStrides: number[]) => void): void {
  const rank = shape.length;
  const count = operands.length;
  const offsets = operands.map((o) => o.offset);
  if (rank === 0) { row(0, 1, offsets, operands.map(() => 0)); return; }
  const last = shape[rank - 1]!;
  const lastStrides = operands.map((o) => o.strides[rank - 1]!);
  let total = 1;
  for (const d of shape) total *= d;
  if (total === 0) return;
  const index = new Array<number>(rank - 1).fill(0);
  for (let start = 0; start < total; start += last) {
    row(start, last, offsets, lastStrides);
    for (let d = rank - 2; d >= 0; d--) {
      index[d]!++;
      for (let k = 0; k < count; k++) offsets[k]! += operands[k]!.strides[d]!;
      if (index[d]! < shape[d]!) break;
      for (let k = 0; k < count; k++) offsets[k]! -= operands[k]!.strides[d]! * shape[d]!;
      index[d] = 0;
    }
  }
}
