// Table 1 of the paper (§4 "Why Self-Attention") as an experiment: three layers of the same width d, each
// mapping a sequence (B, n, d) to (B, n, d), timed across sequence lengths n, beside the quantities Table 1
// compares: complexity per layer (self-attention n^2 d, recurrent n d^2, convolutional k n d^2), sequential
// operations and maximum path length. The layers:
// - self-attention: the project's MultiHeadAttention (§3.2.2), h heads, no mask;
// - recurrent: a GRU cell (Cho et al. 2014) unrolled over the n positions, one step after the other;
// - convolutional: a causal 1-D convolution with a contiguous kernel of width k (output t sees inputs
//   t-k+1..t), as im2col (k shifted views joined along the features) followed by one GEMM.

import { getBackend } from '../backend/index.js';
import { uniformInit } from '../nn/init.js';
import { linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { MultiHeadAttention } from '../nn/attention.js';
import { noGrad } from '../tensor/autograd.js';
import { tidy } from '../tensor/memory.js';
import { randn, zeros } from '../tensor/ops/create.js';
import { concat, stack } from '../tensor/ops/shape.js';
import { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';

/** The three layer types of Table 1. */
export type LayerKind = 'self-attention' | 'recurrent' | 'convolution';

/** The layers in the order they are measured and reported. */
export const LAYER_KINDS: readonly LayerKind[] = ['self-attention', 'recurrent', 'convolution'];

/** A layer of Table 1: (B, n, d) -> (B, n, d). */
export interface SequenceLayer extends Module {
  /** (B, n, d) -> (B, n, d). */
  forward(x: Tensor): Tensor;
}

/** Self-attention: MultiHeadAttention with the sequence as query, key and value (every position sees every other). */
export class SelfAttentionLayer extends Module implements SequenceLayer {
  readonly attention: MultiHeadAttention;

  constructor(readonly dModel: number, readonly heads: number, rng: Rng = new Rng(0)) {
    super();
    this.attention = this.addModule('self_attn', new MultiHeadAttention(dModel, heads, { rng }));
  }

  /** (B, n, d) -> (B, n, d). */
  forward(x: Tensor): Tensor {
    return this.attention.forward(x, x, x);
  }
}

/**
 * A GRU over the sequence, h_0 = 0, with torch.nn.GRU's parameters and gate order (r, z, n):
 * r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
 * c = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * c + z * h. Outputs are the hidden states.
 */
export class GruLayer extends Module implements SequenceLayer {
  /** [W_ir; W_iz; W_in] [3d, d]. */
  readonly weightIh: Tensor;
  /** [W_hr; W_hz; W_hn] [3d, d]. */
  readonly weightHh: Tensor;
  readonly biasIh: Tensor;
  readonly biasHh: Tensor;

  constructor(readonly dModel: number, rng: Rng = new Rng(0)) {
    super();
    const bound = 1 / Math.sqrt(dModel); // torch.nn.GRU's initialisation
    this.weightIh = this.addParameter('weight_ih', uniformInit([3 * dModel, dModel], bound, rng));
    this.weightHh = this.addParameter('weight_hh', uniformInit([3 * dModel, dModel], bound, rng));
    this.biasIh = this.addParameter('bias_ih', uniformInit([3 * dModel], bound, rng));
    this.biasHh = this.addParameter('bias_hh', uniformInit([3 * dModel], bound, rng));
  }

  /** (B, n, d) -> (B, n, d): the input projections in one GEMM, then n dependent steps. */
  forward(x: Tensor): Tensor {
    const [batch, n] = x.shape as [number, number, number];
    const d = this.dModel;
    const inputGates = linear(x, this.weightIh, this.biasIh); // (B, n, 3d)
    let h = zeros([batch, d]); // (B, d)
    const states: Tensor[] = [];
    for (let t = 0; t < n; t++) {
      const xg = inputGates.slice(1, t, t + 1).squeeze(1); // (B, 3d)
      const hg = linear(h, this.weightHh, this.biasHh); // (B, 3d)
      const rz = xg.slice(1, 0, 2 * d).add(hg.slice(1, 0, 2 * d)).sigmoid(); // (B, 2d): r and z
      const r = rz.slice(1, 0, d);
      const z = rz.slice(1, d, 2 * d);
      const candidate = xg.slice(1, 2 * d).add(r.mul(hg.slice(1, 2 * d))).tanh(); // (B, d)
      h = candidate.add(z.mul(h.sub(candidate))); // (1 - z) c + z h
      states.push(h);
    }
    return stack(states, 1); // (B, n, d)
  }
}

/**
 * A causal 1-D convolution, kernel width k, d -> d channels, zero left padding:
 * y_t = b + sum_{j<k} W_j x_{t-k+1+j}, with W_j = weight[:, j d : (j+1) d].
 */
export class CausalConvLayer extends Module implements SequenceLayer {
  /** [d_out, k * d_in]: tap j (input position t-k+1+j) occupies columns j d .. (j+1) d - 1. */
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly dModel: number, readonly kernel: number, rng: Rng = new Rng(0)) {
    super();
    if (!Number.isInteger(kernel) || kernel < 2) throw new Error(`CausalConvLayer: kernel width must be an integer >= 2, got ${kernel}`);
    const bound = 1 / Math.sqrt(kernel * dModel); // torch.nn.Conv1d's initialisation (fan_in = k d)
    this.weight = this.addParameter('weight', uniformInit([dModel, kernel * dModel], bound, rng));
    this.bias = this.addParameter('bias', uniformInit([dModel], bound, rng));
  }

  /** (B, n, d) -> (B, n, d): im2col to (B, n, k d), then one GEMM. */
  forward(x: Tensor): Tensor {
    const [batch, n] = x.shape as [number, number, number];
    const k = this.kernel;
    const padded = concat([zeros([batch, k - 1, this.dModel]), x], 1); // (B, n + k - 1, d)
    const taps = Array.from({ length: k }, (_, j) => padded.slice(1, j, j + n)); // k x (B, n, d)
    const windows = concat(taps, 2); // (B, n, k d)
    return linear(windows, this.weight, this.bias); // (B, n, d)
  }
}

/** Sequential operations of one layer over n positions (Table 1): O(1) except the recurrent layer's n steps. */
export function sequentialOperations(kind: LayerKind, n: number): number {
  return kind === 'recurrent' ? n : 1;
}

/**
 * The longest path, in layer applications (GRU steps for the recurrent layer), from an input position to an
 * output position that depends on it. Self-attention: 1. GRU: n (x_1 reaches y_n through n steps). One
 * causal convolution of width k connects only k positions, so for it this is the depth of the stack of such
 * layers that connects position 1 to n: ceil((n - 1) / (k - 1)), Table 1's O(n/k) for contiguous kernels.
 */
export function maxPathLength(kind: LayerKind, n: number, kernel: number): number {
  if (kind === 'self-attention') return 1;
  if (kind === 'recurrent') return n;
  return Math.max(1, Math.ceil((n - 1) / (kernel - 1)));
}

/** Table 1's complexity per layer: n^2 d (self-attention), n d^2 (recurrent), k n d^2 (convolution). */
export function table1Complexity(kind: LayerKind, n: number, d: number, kernel: number): number {
  if (kind === 'self-attention') return n * n * d;
  if (kind === 'recurrent') return n * d * d;
  return kernel * n * d * d;
}

/**
 * Multiply-adds of the matrix products of the built layer for one sequence: attention 4 n d^2 (Q, K, V and
 * output projections) + 2 n^2 d (Q K^T and weights V); GRU 6 n d^2 (input and hidden projections); conv k n d^2.
 */
export function multiplyAdds(kind: LayerKind, n: number, d: number, kernel: number): number {
  if (kind === 'self-attention') return 4 * n * d * d + 2 * n * n * d;
  if (kind === 'recurrent') return 6 * n * d * d;
  return kernel * n * d * d;
}

/** Options of measureComplexity. */
export interface ComplexityOptions {
  /** Width d of every layer (d_model). */
  d: number;
  /** Sequence lengths to measure, ascending. */
  ns: readonly number[];
  /** Heads of the self-attention layer (d must be divisible by it). */
  heads: number;
  /** Kernel width k of the convolution. */
  kernel: number;
  batch: number;
  /** Timed runs per layer and n (after one warm-up run); the median is reported. */
  repeats: number;
  seed?: number;
  /** Called before each n is measured (for progress output). */
  onLength?: (n: number) => void;
}

/** One layer at one n. */
export interface ComplexityRow {
  layer: LayerKind;
  n: number;
  /** Median wall time of one forward pass (noGrad), in milliseconds. */
  ms: number;
  sequentialOps: number;
  maxPathLength: number;
  /** Table 1's complexity per layer for this n (per sequence). */
  table1Complexity: number;
  /** Multiply-adds of the built layer's matrix products for this n (per sequence). */
  multiplyAdds: number;
}

/** Everything one measurement produced, with the conditions it ran under. */
export interface ComplexityResult {
  d: number;
  heads: number;
  kernel: number;
  batch: number;
  repeats: number;
  backend: string;
  threads: number;
  rows: ComplexityRow[];
}

/** The median of a non-empty list. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median milliseconds of `repeats` forward passes after one warm-up, each in noGrad and tidy. */
function timeForward(layer: SequenceLayer, x: Tensor, repeats: number): number {
  const once = (): number => {
    const start = performance.now();
    noGrad(() => tidy(() => { layer.forward(x); }));
    return performance.now() - start;
  };
  once();
  return median(Array.from({ length: repeats }, once));
}

/** The three layers of width d, in LAYER_KINDS order, in eval mode. */
function makeLayers(d: number, heads: number, kernel: number, seed = 0): Record<LayerKind, SequenceLayer> {
  const rng = new Rng(seed);
  return {
    'self-attention': new SelfAttentionLayer(d, heads, rng).eval(),
    recurrent: new GruLayer(d, rng).eval(),
    convolution: new CausalConvLayer(d, kernel, rng).eval(),
  };
}

/** Times the three layers at every n and attaches Table 1's quantities. */
export function measureComplexity(opts: ComplexityOptions): ComplexityResult {
  const { d, heads, kernel, batch, repeats } = opts;
  const layers = makeLayers(d, heads, kernel, opts.seed);
  const rng = new Rng((opts.seed ?? 0) + 1);
  const rows: ComplexityRow[] = [];
  for (const n of opts.ns) {
    opts.onLength?.(n);
    const x = randn([batch, n, d], { rng }); // (B, n, d)
    for (const kind of LAYER_KINDS) {
      rows.push({
        layer: kind, n, ms: timeForward(layers[kind], x, repeats),
        sequentialOps: sequentialOperations(kind, n), maxPathLength: maxPathLength(kind, n, kernel),
        table1Complexity: table1Complexity(kind, n, d, kernel), multiplyAdds: multiplyAdds(kind, n, d, kernel),
      });
    }
    x.dispose();
  }
  const backend = getBackend();
  return { d, heads, kernel, batch, repeats, backend: backend.name, threads: backend.threads(), rows };
}

/** Where self-attention stops (or starts) being faster than another layer, measured and predicted. */
export interface Crossover {
  against: Exclude<LayerKind, 'self-attention'>;
  /** The measured n at which self-attention was faster. */
  attentionFasterAt: number[];
  /** The first measured n after the last one where self-attention was faster (the first n if it never was; null if it was faster at the largest n). */
  measuredCrossover: number | null;
  /** The n where Table 1's complexities are equal: d (recurrent), k d (convolution). */
  table1Crossover: number;
  /** The n where the built layers' multiply-adds are equal (null: attention always has more). */
  multiplyAddCrossover: number | null;
}

/** The crossovers of self-attention against the recurrent and the convolutional layer. */
export function crossovers(result: ComplexityResult): Crossover[] {
  const { d, kernel } = result;
  const timeOf = (kind: LayerKind, n: number): number => result.rows.find((r) => r.layer === kind && r.n === n)!.ms;
  const ns = [...new Set(result.rows.map((r) => r.n))].sort((a, b) => a - b);
  return (['recurrent', 'convolution'] as const).map((against) => {
    const faster = ns.filter((n) => timeOf('self-attention', n) < timeOf(against, n));
    const largestFaster = faster.at(-1);
    const after = largestFaster === undefined ? ns[0] : ns.find((n) => n > largestFaster);
    const equalMultiplyAdds = against === 'recurrent' ? d : ((kernel - 4) * d) / 2; // 4nd^2 + 2n^2d = 6nd^2 or k n d^2
    return {
      against, attentionFasterAt: faster, measuredCrossover: after ?? null,
      table1Crossover: against === 'recurrent' ? d : kernel * d,
      multiplyAddCrossover: equalMultiplyAdds > 0 ? equalMultiplyAdds : null,
    };
  });
}
