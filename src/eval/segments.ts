// Turns reference streams (refs[k][i] = reference k of segment i) into per-segment reference lists.

/** Per-segment references with empty ones dropped (sacreBLEU allows a variable number of references per segment). */
export function segmentRefs(hyps: readonly string[], refs: readonly (readonly string[])[]): string[][] {
  if (refs.length === 0) throw new Error('at least one reference stream is needed');
  refs.forEach((stream, k) => {
    if (stream.length !== hyps.length) {
      throw new Error(`reference stream ${k + 1} has ${stream.length} segments but there are ${hyps.length} hypotheses`);
    }
  });
  return hyps.map((_, i) => {
    const lines = refs.map((stream) => stream[i]!).filter((line) => line !== '');
    if (lines.length === 0) throw new Error(`segment ${i + 1} has only empty references`);
    return lines;
  });
}
