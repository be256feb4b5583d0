// An independent float64 reference of every tensor op, in plain loops over dense row-major Float64Arrays.
// Tests compare the library (float32, strided, backend kernels) against these and differentiate them
// numerically; nothing here calls the library.

/** A dense row-major float64 array with an explicit shape. */
export interface Arr { readonly shape: readonly number[]; readonly data: Float64Array; }

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** An Arr of the given shape (zeros unless data is given). */
export function arr(shape: readonly number[], data?: ArrayLike<number>): Arr {
  const out = new Float64Array(numel(shape));
  if (data !== undefined) {
    if (data.length !== out.length) throw new Error(`arr: ${data.length} values for shape [${shape.join(', ')}]`);
    out.set(data);
  }
  return { shape: [...shape], data: out };
}

/** Multi-index of flat position i in a row-major shape. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) { idx[d] = i % shape[d]!; i = Math.floor(i / shape[d]!); }
  return idx;
}

/** Flat position of a multi-index (right-aligned, size-1 dims broadcast) in a row-major shape. */
function ravel(idx: readonly number[], shape: readonly number[]): number {
  const lead = idx.length - shape.length;
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d]! + (shape[d] === 1 ? 0 : idx[lead + d]!);
  return flat;
}

/** NumPy broadcast of shapes. */
export function broadcastShape(...shapes: ReadonlyArray<readonly number[]>): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => {
    let d = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1;
      if (e !== 1 && d !== 1 && e !== d) throw new Error('reference: shapes do not broadcast');
      if (e !== 1) d = e;
    }
    return d;
  });
}

/** f applied to every element. */
export function map(a: Arr, f: (x: number) => number): Arr {
  return { shape: a.shape, data: a.data.map(f) };
}

/** f applied elementwise to any number of broadcast operands. */
export function zip(xs: readonly Arr[], f: (...v: number[]) => number): Arr {
  const shape = broadcastShape(...xs.map((x) => x.shape));
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    out.data[i] = f(...xs.map((x) => x.data[ravel(idx, x.shape)]!));
  }
  return out;
}

/** a viewed with new dims of size 1 in front, then broadcast to `shape`. */
export function broadcastTo(a: Arr, shape: readonly number[]): Arr {
  return zip([a, arr(shape)], (x) => x);
}

/** Same elements, new shape. */
export function reshape(a: Arr, shape: readonly number[]): Arr {
  if (numel(shape) !== a.data.length) throw new Error('reference reshape: size mismatch');
  return { shape: [...shape], data: a.data.slice() };
}

/** out.shape[i] = a.shape[order[i]]. */
export function permute(a: Arr, order: readonly number[]): Arr {
  const shape = order.map((o) => a.shape[o]!);
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    const src = new Array<number>(a.shape.length);
    order.forEach((o, k) => { src[o] = idx[k]!; });
    out.data[i] = a.data[ravel(src, a.shape)]!;
  }
  return out;
}

/** Swaps two axes. */
export function transpose(a: Arr, p: number, q: number): Arr {
  const order = a.shape.map((_, i) => i);
  [order[p], order[q]] = [order[q]!, order[p]!];
  return permute(a, order);
}

/** Elements start..end-1 along an axis. */
export function slice(a: Arr, axis: number, start: number, end: number): Arr {
  const shape = a.shape.map((d, i) => (i === axis ? end - start : d));
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    idx[axis]! += start;
    out.data[i] = a.data[ravel(idx, a.shape)]!;
  }
  return out;
}

/** Joins along an existing axis. */
export function concat(xs: readonly Arr[], axis: number): Arr {
  const shape = xs[0]!.shape.map((d, i) => (i === axis ? xs.reduce((n, x) => n + x.shape[axis]!, 0) : d));
  const out = arr(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    let k = 0;
    while (idx[axis]! >= xs[k]!.shape[axis]!) { idx[axis]! -= xs[k]!.shape[axis]!; k++; }
    out.data[i] = xs[k]!.data[ravel(idx, xs[k]!.shape)]!;
  }
  return out;
}

/** Sum over axes (sorted), optionally keeping them as size 1. */
export function sum(a: Arr, axes: readonly number[], keepdim: boolean): Arr {
  const kept = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = arr(kept);
  for (let i = 0; i < a.data.length; i++) out.data[ravel(unravel(i, a.shape), kept)]! += a.data[i]!;
  return keepdim ? out : reshape(out, a.shape.filter((_, i) => !axes.includes(i)));
}

/** Mean over axes. */
export function mean(a: Arr, axes: readonly number[], keepdim: boolean): Arr {
  const n = axes.reduce((p, ax) => p * a.shape[ax]!, 1);
  return map(sum(a, axes, keepdim), (v) => v / n);
}

/** Replaces every line along `axis` by f(line) (same length). */
export function alongAxis(a: Arr, axis: number, f: (line: Float64Array) => Float64Array): Arr {
  const out = arr(a.shape);
  const n = a.shape[axis]!;
  const step = numel(a.shape.slice(axis + 1));
  for (let i = 0; i < a.data.length; i++) {
    if (unravel(i, a.shape)[axis] !== 0) continue;
    const line = Float64Array.from({ length: n }, (_, j) => a.data[i + j * step]!);
    f(line).forEach((v, j) => { out.data[i + j * step] = v; });
  }
  return out;
}

/** Maximum along one axis. */
export function max(a: Arr, axis: number, keepdim: boolean): Arr {
  const lines = alongAxis(a, axis, (line) => line.fill(Math.max(...line)));
  return keepdim ? slice(lines, axis, 0, 1) : reshape(slice(lines, axis, 0, 1), a.shape.filter((_, i) => i !== axis));
}

/** Batched matrix product with broadcast batch dims: [..., m, k] @ [..., k, n]. */
export function matmul(a: Arr, b: Arr): Arr {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = arr([...batch, m, n]);
  for (let bi = 0; bi < numel(batch); bi++) {
    const bidx = unravel(bi, batch);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += a.data[ravel([...bidx, i, p], a.shape)]! * b.data[ravel([...bidx, p, j], b.shape)]!;
        out.data[(bi * m + i) * n + j] = acc;
      }
    }
  }
  return out;
}

/** softmax (or log-softmax) of scale * x + mask along an axis. */
export function softmax(x: Arr, axis: number, scale: number, mask: Arr | null, log: boolean): Arr {
  const z = zip(mask === null ? [x] : [x, mask], (v, mk) => scale * v + (mk ?? 0));
  return alongAxis(z, axis, (line) => {
    const mx = Math.max(...line);
    const lse = mx + Math.log(line.reduce((s, v) => s + Math.exp(v - mx), 0));
    return line.map((v) => (log ? v - lse : Math.exp(v - lse)));
  });
}

/** LayerNorm over the last axis with biased variance. */
export function layerNorm(x: Arr, gamma: Arr, beta: Arr, eps: number): Arr {
  const normed = alongAxis(x, x.shape.length - 1, (line) => {
    const mu = line.reduce((s, v) => s + v, 0) / line.length;
    const variance = line.reduce((s, v) => s + (v - mu) ** 2, 0) / line.length;
    return line.map((v) => (v - mu) / Math.sqrt(variance + eps));
  });
  return zip([normed, gamma, beta], (v, g, b) => v! * g! + b!);
}

/** Rows of weight [V, D] picked by ids (flat, with their shape). */
export function embedding(weight: Arr, ids: readonly number[], idShape: readonly number[]): Arr {
  const dim = weight.shape[1]!;
  const out = arr([...idShape, dim]);
  ids.forEach((id, i) => { for (let j = 0; j < dim; j++) out.data[i * dim + j] = weight.data[id * dim + j]!; });
  return out;
}

/** Mean over non-ignored rows of (1 - eps) * nll + eps * mean_j(-log p_j) (PyTorch's cross_entropy). */
export function crossEntropy(logits: Arr, targets: readonly number[], ignoreIndex: number, eps: number): Arr {
  const logp = softmax(logits, logits.shape.length - 1, 1, null, true);
  const vocab = logits.shape[logits.shape.length - 1]!;
  let total = 0;
  let count = 0;
  targets.forEach((t, r) => {
    if (t === ignoreIndex) return;
    const row = logp.data.subarray(r * vocab, (r + 1) * vocab);
    total += -(1 - eps) * row[t]! - (eps / vocab) * row.reduce((s, v) => s + v, 0);
    count++;
  });
  return arr([], [total / count]);
}

/** erf(x) to about 1e-14: Taylor series for |x| < 3, continued fraction of erfc beyond. */
export function erf(x: number): number {
  const z = Math.abs(x);
  if (z < 3) {
    let term = z;
    let total = z;
    for (let n = 1; n < 80; n++) {
      term *= (-z * z) / n;
      total += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * total;
  }
  let f = z;
  for (let k = 60; k >= 1; k--) f = z + k / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-z * z) / (Math.sqrt(Math.PI) * f));
}

/** Float64 definitions of the unary ops. */
export const unaryRef = {
  neg: (x: number) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  relu: (x: number) => Math.max(x, 0),
  sigmoid: (x: number) => 1 / (1 + Math.exp(-x)),
  abs: Math.abs,
  gelu: (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  geluTanh: (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
} as const;

/** Float64 definitions of the differentiable binary ops. */
export const binaryRef = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  pow: (a: number, b: number) => a ** b,
  maximum: (a: number, b: number) => Math.max(a, b),
  minimum: (a: number, b: number) => Math.min(a, b),
} as const;
