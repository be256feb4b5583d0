// The Tercom edit distance with shifts (Snover et al. 2006), following sacreBLEU 2.6.0's re-implementation
// (sacrebleu/metrics/lib_ter.py): a beam around the length-scaled diagonal, greedy best-shift search with Tercom's
// ranking and limits, and a prefix cache of matrix rows (rows depend only on the hypothesis prefix).

const MAX_SHIFT_SIZE = 10;
const MAX_SHIFT_DIST = 50;
const BEAM_WIDTH = 25;
const MAX_CACHE_SIZE = 10000;
const MAX_SHIFT_CANDIDATES = 1000;
const INF = 2 ** 30;

// Edit operations, as seen when rewriting the hypothesis into the reference.
const NOP = 0;
const SUB = 1;
const INS = 2;
const DEL = 3;

interface Row { cost: Int32Array; op: Uint8Array; }
interface CacheNode { children: Map<number, [CacheNode, Row]>; }

/** Edit distance to one reference with a beam, operation tracing and a cache of rows by hypothesis prefix. */
class BeamEditDistance {
  private readonly initial: Row;
  private readonly cache: CacheNode = { children: new Map() };
  private cacheSize = 0;

  constructor(private readonly ref: Int32Array) {
    const n = ref.length + 1;
    this.initial = { cost: Int32Array.from({ length: n }, (_, j) => j), op: new Uint8Array(n).fill(INS) };
  }

  /** Returns the edit distance from `hyp` to the reference and the operations (hypothesis to reference). */
  distance(hyp: Int32Array): { cost: number; trace: number[] } {
    const rows: Row[] = [this.initial];
    let node = this.cache;
    for (const word of hyp) {
      const hit = node.children.get(word);
      if (hit === undefined) break;
      [node, rows[rows.length]] = [hit[0], hit[1]];
    }
    const cached = rows.length;
    this.fillRows(hyp, rows);
    if (this.cacheSize < MAX_CACHE_SIZE) {
      for (let i = cached; i < rows.length; i++) {
        const next: CacheNode = { children: new Map() };
        node.children.set(hyp[i - 1]!, [next, rows[i]!]);
        node = next;
        this.cacheSize++;
      }
    }
    const trace: number[] = [];
    let i = hyp.length;
    let j = this.ref.length;
    while (i > 0 || j > 0) {
      const op = rows[i]!.op[j]!;
      trace.push(op);
      if (op === NOP || op === SUB) { i--; j--; } else if (op === INS) j--; else i--;
    }
    return { cost: rows[hyp.length]!.cost[this.ref.length]!, trace: trace.reverse() };
  }

  /** Computes the matrix rows after the cached ones, inside the beam (the last row in full). */
  private fillRows(hyp: Int32Array, rows: Row[]): void {
    const nRef = this.ref.length;
    const ratio = hyp.length > 0 ? nRef / hyp.length : 1;
    const beam = BEAM_WIDTH < ratio / 2 ? Math.ceil(ratio / 2 + BEAM_WIDTH) : BEAM_WIDTH;
    for (let i = rows.length; i <= hyp.length; i++) {
      const prev = rows[i - 1]!;
      const row: Row = { cost: new Int32Array(nRef + 1).fill(INF), op: new Uint8Array(nRef + 1) };
      const diag = Math.floor(i * ratio);
      const minJ = Math.max(0, diag - beam);
      const maxJ = i === hyp.length ? nRef + 1 : Math.min(nRef + 1, diag + beam);
      for (let j = minJ; j < maxJ; j++) {
        if (j === 0) {
          row.cost[0] = prev.cost[0]! + 1;
          row.op[0] = DEL;
          continue;
        }
        // Tercom prefers match/substitution, then (as the trace is flipped later) deletion, then insertion.
        const same = hyp[i - 1] === this.ref[j - 1];
        let cost = prev.cost[j - 1]! + (same ? 0 : 1);
        let op = same ? NOP : SUB;
        if (prev.cost[j]! + 1 < cost) { cost = prev.cost[j]! + 1; op = DEL; }
        if (row.cost[j - 1]! + 1 < cost) { cost = row.cost[j - 1]! + 1; op = INS; }
        if (cost < INF) { row.cost[j] = cost; row.op[j] = op; }
      }
      rows.push(row);
    }
  }
}

/** Moves `words[start, start+length)` before position `target`, with sacreBLEU's slicing (including its odd middle case). */
function performShift(words: Int32Array, start: number, length: number, target: number): Int32Array {
  const parts = target < start
    ? [[0, target], [start, start + length], [target, start], [start + length, words.length]]
    : target > start + length
      ? [[0, start], [start + length, target], [start, start + length], [target, words.length]]
      : [[0, start], [start + length, length + target], [start, start + length], [length + target, words.length]];
  const out = new Int32Array(words.length);
  let at = 0;
  for (const [from, to] of parts as [number, number][]) {
    const piece = words.subarray(from, to);
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/** The alignment of reference to hypothesis positions and error flags, from a hypothesis-to-reference trace. */
function alignment(trace: readonly number[], nHyp: number, nRef: number): { align: Int32Array; hypErr: Int32Array; refErr: Int32Array } {
  const align = new Int32Array(nRef);
  const hypErr = new Int32Array(nHyp + 1); // prefix sums of error flags
  const refErr = new Int32Array(nRef + 1);
  let h = 0;
  let r = 0;
  for (const op of trace) {
    // the trace is flipped (reference into hypothesis): INS consumes a reference word, DEL a hypothesis word
    if (op === NOP || op === SUB) {
      align[r] = h;
      hypErr[h + 1] = hypErr[h]! + (op === SUB ? 1 : 0);
      refErr[r + 1] = refErr[r]! + (op === SUB ? 1 : 0);
      h++; r++;
    } else if (op === INS) {
      align[r] = h - 1;
      refErr[r + 1] = refErr[r]! + 1;
      r++;
    } else {
      hypErr[h + 1] = hypErr[h]! + 1;
      h++;
    }
  }
  return { align, hypErr, refErr };
}

/** Finds the shift that reduces the edit distance most (Tercom's ranking); counts the candidates it tries. */
function bestShift(hyp: Int32Array, ref: Int32Array, ed: BeamEditDistance, checked: number): { delta: number; words: Int32Array; checked: number } {
  const { cost: before, trace } = ed.distance(hyp);
  const { align, hypErr, refErr } = alignment(trace, hyp.length, ref.length);
  let best: { delta: number; length: number; start: number; idx: number; words: Int32Array } | undefined;
  const tryShift = (sh: number, sr: number, length: number): void => {
    if (hypErr[sh + length] === hypErr[sh] || refErr[sr + length] === refErr[sr]) return;
    if (sh <= align[sr]! && align[sr]! < sh + length) return;
    let prevIdx = -1;
    for (let offset = -1; offset < length; offset++) {
      const idx = sr + offset === -1 ? 0 : align[sr + offset]! + 1;
      if (idx === prevIdx) continue;
      prevIdx = idx;
      const words = performShift(hyp, sh, length, idx);
      const delta = before - ed.distance(words).cost;
      checked++;
      if (best === undefined || delta > best.delta || (delta === best.delta && (length > best.length
        || (length === best.length && (sh < best.start || (sh === best.start && idx < best.idx)))))) {
        best = { delta, length, start: sh, idx, words };
      }
    }
  };
  search: for (let sh = 0; sh < hyp.length; sh++) {
    for (let sr = 0; sr < ref.length; sr++) {
      if (Math.abs(sr - sh) > MAX_SHIFT_DIST) continue;
      for (let length = 0; hyp[sh + length] === ref[sr + length] && length < MAX_SHIFT_SIZE;) {
        length++;
        tryShift(sh, sr, length);
        if (checked >= MAX_SHIFT_CANDIDATES) break search;
        if (sh + length === hyp.length || sr + length === ref.length) break;
      }
    }
  }
  return best === undefined ? { delta: 0, words: hyp, checked } : { delta: best.delta, words: best.words, checked };
}

/** Number of Tercom edits (shifts + insertions, deletions, substitutions) turning `hyp` into `ref`. */
export function terEdits(hyp: readonly string[], ref: readonly string[]): number {
  if (ref.length === 0) return hyp.length;
  const ids = new Map<string, number>();
  const toIds = (words: readonly string[]): Int32Array =>
    Int32Array.from(words, (w) => ids.get(w) ?? (ids.set(w, ids.size), ids.size - 1));
  const refIds = toIds(ref);
  let words = toIds(hyp);
  const ed = new BeamEditDistance(refIds);
  let shifts = 0;
  let checked = 0;
  for (;;) {
    const step = bestShift(words, refIds, ed, checked);
    checked = step.checked;
    if (checked >= MAX_SHIFT_CANDIDATES || step.delta <= 0) break;
    shifts++;
    words = step.words;
  }
  return shifts + ed.distance(words).cost;
}
