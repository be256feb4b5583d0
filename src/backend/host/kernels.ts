// The kernels of the host backends (pure TypeScript, native oneDNN) over typed arrays. host/backend.ts turns
// any HostKernels into a Backend (backend.ts): it owns the typed arrays and resolves each handle-and-offset
// operand to the view these kernels take. The operand names mirror backend.ts, with typed arrays for handles.
//
// Conventions: buffers are flat typed arrays. "Contiguous" arguments are row-major and dense. A `Strided`
// operand is a buffer plus an element offset and one stride per output dimension (stride 0 = broadcast), so
// views, transposes and broadcasts reach a kernel without a copy.

/** A buffer seen through an offset and strides aligned to some shape (stride 0 broadcasts). */
export interface Strided {
  readonly data: Float32Array;
  readonly offset: number;
  readonly strides: readonly number[];
}

import type {
  AttentionBackwardArgs as BackendAttentionBackwardArgs, AttentionDims, AttentionScoresArgs as BackendAttentionScoresArgs, BinaryOp,
  DecoderStepActivation, DecoderStepArgs as BackendDecoderStepArgs, DecoderStepLayer as BackendDecoderStepLayer,
  DecoderStepToken as BackendDecoderStepToken, GemmLayout, ReduceOp, UnaryOp,
} from '../backend.js';

export type { AttentionDims, BinaryOp, ReduceOp, UnaryOp } from '../backend.js';

/** A general matrix multiply over a batch: out[b] = alpha * op(A[b]) op(B[b]) + beta * out[b] (+ a bias row). */
export interface GemmArgs extends GemmLayout {
  readonly a: Float32Array;
  readonly b: Float32Array;
  /** Output matrices: dense [batch, m, n] unless ldc / strideC / strideCOuter say otherwise. */
  readonly out: Float32Array;
  /** Added to every output row (length >= biasOffset + n); beta must then be 0. */
  readonly bias?: Float32Array | null;
  readonly biasOffset?: number;
}

/** The second summand of a residual connection normalised by Backend.layerNorm, and where the sum goes. */
export interface ResidualInput { y: Float32Array; sum: Float32Array; }

/**
 * Where Backend.crossEntropy writes the gradient of the loss (dlogits may be the logits buffer itself), its scale
 * (1 / rows counted, for a mean) and, optionally, where the gradient's sums over the rows go (a bias gradient).
 */
export interface CrossEntropyGrad { scale: number; dlogits: Float32Array; columnSums?: Float32Array; }

/**
 * h heads of a projection stored row-major as [rows, rowStride] (rows = batch x positions): head i of row r is
 * data[offset + r * rowStride + col + i * d .. + d), as a Linear's output holds them (Q, K and V may share one).
 */
export interface HeadPacked { data: Float32Array; offset: number; rowStride: number; col: number; }

/** Attention operands over typed arrays (backend.ts's AttentionOperands). */
interface OnHost { packed: HeadPacked; strided: Strided; floats: Float32Array; bits: Int32Array; }

/** Operands of HostKernels.attentionScores: backend.ts's over typed arrays. */
export type AttentionScoresArgs = BackendAttentionScoresArgs<OnHost>;

/** Operands of HostKernels.attentionBackward: backend.ts's over typed arrays. */
export type AttentionBackwardArgs = BackendAttentionBackwardArgs<OnHost>;

/** One decoder layer of HostKernels.decoderStep: backend.ts's, over typed arrays. */
export type DecoderStepLayer = BackendDecoderStepLayer<Float32Array>;

/**
 * Operands of HostKernels.decoderStep: backend.ts's over typed arrays, the sublayers already checked by the caller;
 * `cross` says whether the layers have encoder-decoder attention (DECODER_STEP_SUBLAYERS) or not (decoder-only).
 */
export type DecoderStepArgs = Omit<BackendDecoderStepArgs<Float32Array>, 'sublayers' | 'activation'> & { activation: DecoderStepActivation; cross: boolean };

/** A decoder step's per-token operands over typed arrays (backend.ts's DecoderStepToken). */
export type DecoderStepToken = BackendDecoderStepToken<Float32Array>;

/** The kernels a host backend provides. Every method writes into caller-owned output buffers. */
export interface HostKernels {
  /** Threads the kernels use (1 for ts). */
  threads(): number;

  /** dst = src element by element over `shape`, both read/written through their strides (dst must not overlap itself). */
  copy(src: Strided, dst: Strided, shape: readonly number[]): void;
  /** out[i] = f(x[i]) over contiguous buffers of equal length. */
  unary(op: UnaryOp, x: Float32Array, out: Float32Array): void;
  /** dx[i] = dy[i] * f'(x[i]) (y = f(x) is passed for ops whose derivative is cheaper from it). */
  unaryBackward(op: UnaryOp, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** out (contiguous, `shape`) = a op b, both read through strides aligned to `shape`. */
  binary(op: BinaryOp, a: Strided, b: Strided, shape: readonly number[], out: Float32Array): void;
  /** out = cond != 0 ? a : b, all three strided over `shape`. */
  where(cond: Strided, a: Strided, b: Strided, shape: readonly number[], out: Float32Array): void;
  /** Reduces contiguous x viewed as [outer, n, inner] over n into out [outer, inner]. */
  reduce(op: ReduceOp, x: Float32Array, outer: number, n: number, inner: number, out: Float32Array): void;
  /** Index of the maximum over n for x viewed as [outer, n, inner]; first index wins ties. */
  argmax(x: Float32Array, outer: number, n: number, inner: number, out: Int32Array): void;
  /** Batched GEMM; see GemmArgs. */
  gemm(args: GemmArgs): void;

  /**
   * Row softmax of scale * x + mask over the last dimension of contiguous x with `shape`; mask (optional) is
   * strided over `shape`. With `log`, writes log-softmax instead.
   */
  softmax(x: Float32Array, shape: readonly number[], scale: number, mask: Strided | null, log: boolean, out: Float32Array): void;
  /** Gradient of softmax (or log-softmax) w.r.t. its input, from the output y, times `scale`. */
  softmaxBackward(y: Float32Array, dy: Float32Array, rows: number, cols: number, scale: number, log: boolean, dx: Float32Array): void;

  /**
   * LayerNorm over the last dim: out = (x - mean) * rstd * gamma + beta; saves mean and rstd per row. With
   * `residual`, normalises s = x + residual.y instead (float sums) and writes s to residual.sum: a residual
   * connection and its LayerNorm (§3.1) in one pass.
   */
  layerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, rows: number, cols: number, eps: number,
    out: Float32Array, mean: Float32Array, rstd: Float32Array, residual?: ResidualInput): void;
  /** LayerNorm backward; writes dx and accumulates (+=) dgamma and dbeta. */
  layerNormBackward(x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, dy: Float32Array,
    rows: number, cols: number, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void;

  /**
   * Label-smoothed cross entropy per row, as PyTorch defines it:
   * loss = (1 - eps) * nll(target) + eps * mean_j(-logp_j); rows whose target is ignoreIndex get 0.
   * Writes per-row losses and the row log-sum-exp. With `grad`, also writes the gradient
   * dlogits = scale * (softmax - ((1 - eps) * onehot + eps / V)), 0 for ignored rows, in the same pass over
   * each row (a loss that is the root of backward() knows its gradient's scale already). With `bias`, row r's
   * logits are logits[r] + bias (a generator's bias joined in the loss's pass instead of one of its own).
   */
  crossEntropy(logits: Float32Array, targets: Int32Array, rows: number, vocab: number, ignoreIndex: number,
    smoothing: number, losses: Float32Array, logSumExp: Float32Array, grad?: CrossEntropyGrad, bias?: Float32Array): void;

  /**
   * Inverted dropout over contiguous x: for each i in order, u = (next xoshiro128** output of `state`) / 2^32;
   * element i is kept when u >= p: bit (i & 31) of keepBits[i >> 5] is set and out[i] = x[i] * float(1 / (1 - p)),
   * else the bit is clear and out[i] = x[i] * 0. `state` (4 words) advances in place, exactly as x.length calls of
   * Rng.uniform() would. keepBits holds ceil(x.length / 32) words. With `relu`, dropout of ReLU(x) from the
   * same draws (the FFN's hidden layer, eq. (2)): bit i is set when element i is kept and x[i] > 0, out[i] =
   * x[i] * float(1 / (1 - p)) where it is set and +0 elsewhere, so dropoutBackward with these bits is the
   * gradient of dropout(ReLU(x)).
   */
  dropout(x: Float32Array, p: number, state: Uint32Array, out: Float32Array, keepBits: Int32Array, relu?: boolean): void;
  /** dx[i] = dy[i] * (bit i of keepBits ? float(1 / (1 - p)) : 0): the gradient of dropout. */
  dropoutBackward(dy: Float32Array, keepBits: Int32Array, p: number, dx: Float32Array): void;

  /** out[i, :] = weight[ids[i], :]. Ids are checked by the caller. */
  embedding(weight: Float32Array, ids: Int32Array, dim: number, out: Float32Array): void;
  /** dweight[ids[i], :] += dy[i, :]; with `fresh`, dweight is zeroed first (a table's whole gradient). */
  embeddingBackward(dy: Float32Array, ids: Int32Array, dim: number, dweight: Float32Array, fresh?: boolean): void;

  /**
   * One Adam(W) step in place. lr already includes bias correction handling: the kernel applies
   * p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps), plus decoupled weight decay when
   * `decoupled`, or L2 added to the gradient otherwise.
   */
  adam(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, step: number, decoupled: boolean): void;

  /**
   * Eq. (1)'s weights for every (batch, head): probs = softmax(scale * Q K^T + mask) over the keys, q and k read
   * head by head from their projections: the scores never exist apart from the weights.
   */
  attentionScores(args: AttentionScoresArgs): void;
  /**
   * The gradients of eq. (1) with dropout on the weights, out = dropout(P) V, for every (batch, head) from P, the
   * keep bits and dOut: dV = dropout(P)^T dOut, dP = dropout'(dOut V^T), dS = scale * P * (dP - rowsum(P dP)),
   * dQ = dS K, dK = dS^T Q, written head by head into their projections' layout.
   */
  attentionBackward(args: AttentionBackwardArgs): void;

  /**
   * One token of the Transformer decoder (§3.1) for every row, fused: embedding * embedScale + positional, then
   * per layer masked self-attention over the cached positions and this one (whose keys and values it writes
   * into the caches), encoder-decoder attention, the FFN, each a residual sublayer with LayerNorm (post- or
   * pre-LN), the final norm, the generator and a log-softmax into `out`. Eval mode: no dropout. What the tensor
   * ops compute for the same step, without one call per op. Binds the operands once (checked) and returns the
   * step of one token, which checks and takes only that token's operands.
   */
  bindDecoderStep(args: DecoderStepArgs): (token: DecoderStepToken) => void;
}
