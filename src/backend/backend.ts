// The kernel interface. Every backend (pure TypeScript, native oneDNN, WebGPU) implements exactly this; the
// tensor layer above calls only these methods and never knows which backend runs.
//
// Memory belongs to the backend: a tensor's storage is a `BufferHandle` that its backend allocated (a typed
// array on the host backends, a device buffer on a GPU). Kernels see operands as a handle plus an element
// offset (`Dense`), or plus one stride per output dimension (`Strided`, stride 0 = broadcast), so views,
// transposes and broadcasts reach a kernel without a copy. Values reach the host only through `read`
// (asynchronous, every backend) or `readSync` (host backends only).
//
// The interface has two parts: the core kernels every backend must provide, and optional fused fast paths
// (`FusedPaths`). Each fused path declares what it computes (`refuses` names what it does not, and anything it
// was not written for is refused); the ops fall back to the composed core kernels, with the same result within
// rounding, whenever a path is absent or refuses (docs/architecture.md lists them).

/** Element types a buffer can hold. */
export type DType = 'float32' | 'int32';

/** The host array type of each dtype. */
export type HostArrayFor<D extends DType> = D extends 'float32' ? Float32Array : Int32Array;

/** A host array of either dtype. */
export type HostArray = Float32Array | Int32Array;

/** Elementwise functions of one argument. */
export const UNARY_OPS = ['neg', 'exp', 'log', 'sqrt', 'tanh', 'relu', 'sigmoid', 'gelu', 'geluTanh', 'abs'] as const;
/** Elementwise functions of two arguments (comparisons give 1 or 0). */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
/** Reductions along one axis (sumSquares: the sum of the squares, each in float32, in one read: gradient norms). */
export const REDUCE_OPS = ['sum', 'max', 'sumSquares'] as const;
/** The optional fused fast paths (see FusedPaths). */
export const FUSED_PATHS = ['addLayerNorm', 'reluDropout', 'linearCrossEntropy', 'packedAttention', 'decoderStep'] as const;

/** A unary op's name. */
export type UnaryOp = (typeof UNARY_OPS)[number];
/** A binary op's name. */
export type BinaryOp = (typeof BINARY_OPS)[number];
/** A reduction's name. */
export type ReduceOp = (typeof REDUCE_OPS)[number];
/** A fused path's name. */
export type FusedPathName = (typeof FUSED_PATHS)[number];

/** A buffer owned by a backend; opaque above `backend/` (only its backend reads it). */
export type BufferHandle = object;

/** Consecutive elements of a buffer from `offset` (row-major when a shape is laid on them). */
export interface Dense {
  readonly buf: BufferHandle;
  readonly offset: number;
}

/** A buffer seen through an offset and strides aligned to some shape (stride 0 broadcasts). */
export interface Strided extends Dense {
  readonly strides: readonly number[];
}

/** The shapes and layouts of a batched GEMM, shared by its backend and host operand forms. */
export interface GemmLayout {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** A is stored k x m (read transposed) when true, else m x k. */
  readonly transA: boolean;
  readonly transB: boolean;
  readonly aOffset: number; readonly lda: number; readonly strideA: number;
  readonly bOffset: number; readonly ldb: number; readonly strideB: number;
  readonly alpha: number;
  readonly beta: number;
  /**
   * Two-level batch: matrix i starts at offset + floor(i / batchInner) * strideOuter + (i % batchInner) * stride,
   * for batch dims that no single stride walks. batchInner divides batch; default batch (one level).
   */
  readonly batchInner?: number;
  readonly strideAOuter?: number;
  readonly strideBOuter?: number;
  /**
   * Output layout: matrix i starts at floor(i / batchInner) * strideCOuter + (i % batchInner) * strideC, its rows
   * ldc apart (defaults n, m * n, batchInner * m * n): a product can land straight in a permuted tensor's storage.
   */
  readonly ldc?: number;
  readonly strideC?: number;
  readonly strideCOuter?: number;
}

/** A general matrix multiply over a batch: out[b] = alpha * op(A[b]) op(B[b]) + beta * out[b] (+ a bias row). */
export interface GemmArgs extends GemmLayout {
  readonly a: BufferHandle;
  readonly b: BufferHandle;
  /** Output matrices: dense [batch, m, n] from outOffset unless ldc / strideC / strideCOuter say otherwise. */
  readonly out: BufferHandle;
  readonly outOffset?: number;
  /** Added to every output row (n elements from its offset); beta must then be 0. */
  readonly bias?: Dense | null;
}

/** Operands of Backend.softmax: rows of the last dim of x (dense, `shape`). */
export interface SoftmaxArgs {
  x: Dense; shape: readonly number[];
  /** Factor applied to x before the mask. */
  scale: number;
  /** Additive mask strided over `shape`, or null. */
  mask: Strided | null;
  /** Log-softmax instead of softmax. */
  log: boolean;
  out: Dense;
}

/** Operands of Backend.softmaxBackward: y the forward output, all [rows, cols] dense. */
export interface SoftmaxBackwardArgs { y: Dense; dy: Dense; rows: number; cols: number; scale: number; log: boolean; dx: Dense; }

/** Operands of Backend.layerNorm over [rows, cols]; mean and rstd [rows] are saved for the backward. */
export interface LayerNormArgs {
  x: Dense; gamma: Dense; beta: Dense; rows: number; cols: number; eps: number;
  out: Dense; mean: Dense; rstd: Dense;
}

/** Operands of Backend.layerNormBackward: dx written, dgamma and dbeta accumulated (+=). */
export interface LayerNormBackwardArgs {
  x: Dense; gamma: Dense; mean: Dense; rstd: Dense; dy: Dense; rows: number; cols: number;
  dx: Dense; dgamma: Dense; dbeta: Dense;
}

/** Operands of Backend.crossEntropy over logits [rows, vocab] and int32 targets [rows]. */
export interface CrossEntropyArgs {
  logits: Dense; targets: Dense; rows: number; vocab: number;
  /** Rows whose target is this do not count. */
  ignoreIndex: number;
  /** Label smoothing eps in [0, 1]. */
  smoothing: number;
  /** The mean loss over the counted rows, one element (NaN when none counts). */
  loss: Dense;
  /** Where the gradient of that mean goes ([rows, vocab]; may be the logits themselves), or null. */
  dlogits: Dense | null;
}

/** Operands of Backend.dropout over n contiguous elements. */
export interface DropoutArgs {
  x: Dense; n: number; p: number;
  /** The 4-word xoshiro128** state; it advances in place exactly as n calls of Rng.uniform() would. */
  state: Uint32Array;
  out: Dense;
  /** ceil(n / 32) int32 words: bit (i & 31) of word i >> 5 set where element i was kept. */
  keepBits: Dense;
}

/** Operands of Backend.dropoutBackward over n elements. */
export interface DropoutBackwardArgs { dy: Dense; keepBits: Dense; n: number; p: number; dx: Dense; }

/** Operands of Backend.embedding: rows of weight [vocab, dim] picked by int32 ids [count]. */
export interface EmbeddingArgs { weight: Dense; ids: Dense; count: number; dim: number; out: Dense; }

/** Operands of Backend.embeddingBackward: the whole gradient [vocab, dim] of the table. */
export interface EmbeddingBackwardArgs { dy: Dense; ids: Dense; count: number; dim: number; vocab: number; dweight: Dense; }

/** Operands of Backend.adam: one Adam(W) step in place over n elements. */
export interface AdamArgs {
  param: Dense; grad: Dense; m: Dense; v: Dense; n: number;
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  /** The step number t >= 1 of the bias corrections. */
  step: number;
  /** Decoupled weight decay (AdamW) instead of L2 added to the gradient. */
  decoupled: boolean;
}

/** The kernels every backend provides. Every method writes into caller-owned output buffers. */
export interface CoreKernels {
  /** dst = src element by element over `shape`, both through their strides (dst must not overlap itself). */
  copy(src: Strided, dst: Strided, shape: readonly number[], dtype: DType): void;
  /** out[i] = value for n elements. */
  fill(out: Dense, n: number, value: number, dtype: DType): void;
  /** out[i] = f(x[i]) over n elements. */
  unary(op: UnaryOp, x: Dense, out: Dense, n: number): void;
  /** dx[i] = dy[i] * f'(x[i]) (y = f(x) is passed for ops whose derivative is cheaper from it). */
  unaryBackward(op: UnaryOp, x: Dense, y: Dense, dy: Dense, dx: Dense, n: number): void;
  /** out (dense, `shape`) = a op b, both read through strides aligned to `shape`. */
  binary(op: BinaryOp, a: Strided, b: Strided, shape: readonly number[], out: Dense): void;
  /** out = cond != 0 ? a : b, all three strided over `shape`. */
  where(cond: Strided, a: Strided, b: Strided, shape: readonly number[], out: Dense): void;
  /** Reduces dense x viewed as [outer, n, inner] over n into out [outer, inner]. */
  reduce(op: ReduceOp, x: Dense, outer: number, n: number, inner: number, out: Dense): void;
  /** Int32 index of the maximum over n for x viewed as [outer, n, inner]; the first index wins ties, NaN never wins. */
  argmax(x: Dense, outer: number, n: number, inner: number, out: Dense): void;
  /** Batched GEMM; see GemmArgs. */
  gemm(args: GemmArgs): void;
  /** Row softmax (or log-softmax) of scale * x + mask over the last dimension. */
  softmax(args: SoftmaxArgs): void;
  /** Gradient of softmax (or log-softmax) w.r.t. its input, from the output y, times `scale`. */
  softmaxBackward(args: SoftmaxBackwardArgs): void;
  /** LayerNorm over the last dim: out = (x - mean) * rstd * gamma + beta; saves mean and rstd per row. */
  layerNorm(args: LayerNormArgs): void;
  /** LayerNorm backward; writes dx and accumulates (+=) dgamma and dbeta. */
  layerNormBackward(args: LayerNormBackwardArgs): void;
  /**
   * Mean label-smoothed cross entropy over the rows whose target is not ignoreIndex, as PyTorch defines it:
   * (1 - eps) * nll(target) + eps * mean_j(-logp_j); with dlogits, also its gradient
   * (softmax - ((1 - eps) * onehot + eps / V)) / counted, 0 for ignored rows.
   */
  crossEntropy(args: CrossEntropyArgs): void;
  /** Inverted dropout: element i kept when its draw u >= p, out = x * float(1 / (1 - p)) there, x * 0 elsewhere. */
  dropout(args: DropoutArgs): void;
  /** dx[i] = dy[i] * (bit i of keepBits ? float(1 / (1 - p)) : 0): the gradient of dropout. */
  dropoutBackward(args: DropoutBackwardArgs): void;
  /** out[i, :] = weight[ids[i], :]; ids were checked by the caller. */
  embedding(args: EmbeddingArgs): void;
  /** dweight = 0, then dweight[ids[i], :] += dy[i, :]. */
  embeddingBackward(args: EmbeddingBackwardArgs): void;
  /** p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps), m and v updated, with weight decay. */
  adam(args: AdamArgs): void;
}

/** The second summand of a residual connection and where the sum goes (the backward needs it). */
export interface AddLayerNormArgs extends LayerNormArgs { y: Dense; sum: Dense; }

/** The generator of §3.4 and the loss in one: logits = x W^T + bias, then crossEntropy with its gradient. */
export interface LinearCrossEntropyArgs {
  /** x [rows, d], W [vocab, d], bias [vocab] or null, targets [rows] int32. */
  x: Dense; weight: Dense; bias: Dense | null; targets: Dense; rows: number; d: number; vocab: number;
  ignoreIndex: number; smoothing: number;
  /** The mean loss, one element. */
  loss: Dense;
  /** [rows, vocab]: the gradient of the mean loss w.r.t. the logits (scratch when grads are not wanted). */
  dlogits: Dense;
  /** Whether to write dlogits (and dbias). */
  grad: boolean;
  /** The bias gradient [vocab] (dlogits summed over rows), or null. */
  dbias: Dense | null;
}

/**
 * h heads of a projection stored row-major as [rows, rowStride] (rows = batch x positions): head i of row r is
 * elements offset + r * rowStride + col + i * d .. + d, as a Linear's output holds them (Q, K and V may share one).
 */
export interface HeadPacked { buf: BufferHandle; offset: number; rowStride: number; col: number; }

/** Shapes of the packed attention kernels: batch x heads pairs of tq queries over tk keys. */
export interface AttentionDims { batch: number; heads: number; tq: number; tk: number; dK: number; dV: number; scale: number; }

/** Operands of FusedPaths.packedAttention.scores. */
/**
 * The operand types the attention kernels' arguments are written in: backend handles here (`OnBackend`), typed
 * arrays on the host backends (host/kernels.ts). One declaration of the arguments serves both.
 */
export interface AttentionOperands { packed: unknown; strided: unknown; floats: unknown; bits: unknown; }

/** Attention operands as handles: what FusedPaths.packedAttention receives. */
export interface OnBackend { packed: HeadPacked; strided: Strided; floats: Dense; bits: Dense; }

/** Operands of FusedPaths.packedAttention.scores. */
export interface AttentionScoresArgs<O extends AttentionOperands = OnBackend> extends AttentionDims {
  q: O['packed']; k: O['packed'];
  /** Additive mask read through strides over (batch, heads, tq, tk), or null. */
  mask: O['strided'] | null;
  /** The weights (batch, heads, tq, tk), written. */
  probs: O['floats'];
}

/** Operands of FusedPaths.packedAttention.backward. */
export interface AttentionBackwardArgs<O extends AttentionOperands = OnBackend> extends AttentionDims {
  q: O['packed']; k: O['packed']; v: O['packed'];
  /** The weights P (batch, heads, tq, tk) of the forward, before dropout. */
  probs: O['floats'];
  /** Dropout on the weights: its keep bits over P in order (Backend.dropout's) and p; null when none. */
  dropout: { keepBits: O['bits']; p: number } | null;
  /** Gradient of the output (batch, tq, heads x dV), dense. */
  dOut: O['floats'];
  /** Where the gradients of q, k and v go (written, not accumulated; they may share one buffer). */
  dq: O['packed']; dk: O['packed']; dv: O['packed'];
}

/** One decoder layer's parameters (dense, PyTorch layouts) and key/value caches for the fused decoder step. */
export interface DecoderStepLayer<T = Dense> {
  /** Self-attention: packed [W^Q; W^K; W^V] [3d, d] and its bias [3d]; W^O [d, d] and its bias. */
  selfInW: T; selfInB: T; selfOutW: T; selfOutB: T;
  /**
   * Encoder-decoder attention: W^Q [d, d] and its bias (the keys and values are cached); W^O and its bias. Null
   * in a decoder-only block (DECODER_ONLY_STEP_SUBLAYERS), as are norm2 and the memory's keys and values.
   */
  crossQW: T | null; crossQB: T | null; crossOutW: T | null; crossOutB: T | null;
  /** FFN, eq. (2): W_1 [dFF, d], b_1, W_2 [d, dFF], b_2. */
  ff1W: T; ff1B: T; ff2W: T; ff2B: T;
  /** LayerNorm gains and biases [d] of the sublayers: norm1 self-attention, norm2 encoder-decoder attention, norm3 FFN. */
  norm1G: T; norm1B: T; norm2G: T | null; norm2B: T | null; norm3G: T; norm3B: T;
  /** Self-attention keys and values (rows, h, capacity, dK): positions 0..past-1 filled; the step writes `past`. */
  selfK: T; selfV: T;
  /** The memory's keys and values (rows, h, srcLen, dK). */
  crossK: T | null; crossV: T | null;
}

/**
 * The sublayers of one decoder layer, in order, as the fused decoder step computes them. nn/decoder.ts declares
 * the layer's own list (DECODER_SUBLAYERS); a fused step refuses a layer whose list differs, and a test names
 * the places to change (nn/decoder.ts, backend/ts/decoder-step.ts, native/kernels/decoder_step.cc).
 */
export const DECODER_STEP_SUBLAYERS = ['selfAttention', 'crossAttention', 'feedForward'] as const;

/**
 * The sublayers of a decoder-only block (GPT's: nn/encoder.ts's ENCODER_SUBLAYERS under a causal mask), which the
 * fused step computes too: the same step without encoder-decoder attention.
 */
export const DECODER_ONLY_STEP_SUBLAYERS = ['selfAttention', 'feedForward'] as const;

/** The FFN activations the fused decoder step computes (nn/feedforward.ts's names), each as the unary op it runs. */
export const DECODER_STEP_ACTIVATIONS = { 'relu': 'relu', 'gelu': 'gelu', 'gelu-tanh': 'geluTanh' } as const satisfies Record<string, UnaryOp>;
/** The unary op of a decoder step's FFN activation, as the host kernels take it. */
export type DecoderStepActivation = (typeof DECODER_STEP_ACTIVATIONS)[keyof typeof DECODER_STEP_ACTIVATIONS];

/** Operands of FusedPaths.decoderStep; T is how a buffer operand is given (host kernels: typed arrays). */
export interface DecoderStepArgs<T = Dense> {
  /** srcLen: positions of the memory (0 in a decoder-only step). */
  rows: number; dModel: number; heads: number; dFF: number; vocab: number; srcLen: number;
  /** The sublayers of each layer, in order (DECODER_STEP_SUBLAYERS or DECODER_ONLY_STEP_SUBLAYERS). */
  sublayers: readonly string[];
  /** Positions already in the self-attention caches (this token's position). */
  past: number;
  /** Positions the self-attention cache buffers hold (> past). */
  capacity: number;
  /** Pre-LN sublayers x + F(LayerNorm(x)) instead of post-LN LayerNorm(x + F(x)). */
  normFirst: boolean;
  /** The FFN's activation (DECODER_STEP_ACTIVATIONS: ReLU, exact GELU, GPT-2's tanh GELU); a path refuses others. */
  activation: string;
  eps: number;
  /** The last token of each row (rows, int32 on the host), looked up in `embedding` [V', d] and scaled by embedScale. */
  ids: Int32Array; embedding: T; embedScale: number;
  /** The positional encodings [> past, d]; the step adds row `past`. */
  positional: T;
  /** Source padding (rows, srcLen), nonzero = pad: those keys are masked out of encoder-decoder attention (null: none). */
  srcPad: T | null;
  layers: readonly DecoderStepLayer<T>[];
  /** A LayerNorm after the last layer, or null. */
  finalNorm: { gamma: T; beta: T } | null;
  /** The pre-softmax linear map [vocab, d] and its bias (null: none, as GPT's tied head). */
  generatorW: T; generatorB: T | null;
  /** Log-probabilities of the next token (rows, vocab). */
  out: T;
}

/**
 * A fused fast path: `refuses` says why it does not compute these operands (null: it does). It names every
 * case it was not written for, so that a new option fails closed into the composed ops instead of being
 * computed wrongly; `run` throws when called with operands it refuses.
 */
export interface FusedPath<A> {
  refuses(args: A): string | null;
  run(args: A): void;
}

/** The operands of a decoder step that change with every token; the others stay bound between tokens. */
export type DecoderStepToken<T = Dense> = Pick<DecoderStepArgs<T>, 'past' | 'ids' | 'out'>;

/**
 * The decoder step: besides `run`, `bind` checks and binds every operand but the token's once, for a decode that
 * steps the same weights and cache buffers token after token; it throws when `refuses` would not return null.
 */
export interface DecoderStepPath extends FusedPath<DecoderStepArgs> {
  bind(args: DecoderStepArgs): (token: DecoderStepToken) => void;
}

/** The optional fused paths of a backend; each replaces a composition of core kernels (docs/architecture.md). */
export interface FusedPaths {
  /** LayerNorm(x + y) (§3.1's residual and norm) in one pass; the sum is written for the backward. */
  addLayerNorm?: FusedPath<AddLayerNormArgs>;
  /**
   * dropout(ReLU(x)) from the same draws (the FFN's hidden layer, eq. (2)): keep bits set where kept and x > 0,
   * out = x * float(1 / (1 - p)) there and +0 elsewhere, so dropoutBackward with these bits is its gradient.
   */
  reluDropout?: FusedPath<DropoutArgs>;
  /** The generator and the label-smoothed loss in fewer passes: the logits buffer becomes the gradient in place. */
  linearCrossEntropy?: FusedPath<LinearCrossEntropyArgs>;
  /** Eq. (1) per (batch, head) over head-packed projections: the scores never exist apart from the weights. */
  packedAttention?: { scores: FusedPath<AttentionScoresArgs>; backward: FusedPath<AttentionBackwardArgs> };
  /** One token of the Transformer decoder (§3.1) with KV caches, in eval mode, into log-probabilities. */
  decoderStep?: DecoderStepPath;
}

/** What a backend is called. */
export type BackendName = 'ts' | 'native' | 'webgpu';

/** A backend: its memory, its core kernels and its optional fused paths. */
export interface Backend extends CoreKernels {
  readonly name: BackendName;
  /** Where its buffers live: host backends share memory (their tensors mix freely); others need Tensor.to(). */
  readonly memory: 'host' | 'device';
  /** Threads the backend uses on the host (1 for ts). */
  threads(): number;
  /** A buffer of at least n elements (zeroed when `zero`); released with `free` once no tensor uses it. */
  alloc(n: number, dtype: DType, zero: boolean): BufferHandle;
  /** Gives a buffer back (to a pool, or to the device). */
  free(buf: BufferHandle, dtype: DType): void;
  /** Copies host values into a buffer from dst.offset. */
  write(dst: Dense, src: HostArray): void;
  /** n elements from src.offset as a new host array; every backend can. */
  read<D extends DType>(src: Dense, n: number, dtype: D): Promise<HostArrayFor<D>>;
  /** The same, synchronously; null on backends that cannot (a GPU's reads are asynchronous). */
  readonly readSync: (<D extends DType>(src: Dense, n: number, dtype: D) => HostArrayFor<D>) | null;
  /** The fused fast paths this backend has. */
  readonly fused: FusedPaths;
}
