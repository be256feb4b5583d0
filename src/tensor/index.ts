// The tensor package: Tensor, autograd controls, memory scopes, randomness and every op.
export { Tensor } from './tensor.js';
export { noGrad, isGradEnabled, onGradReady } from './autograd.js';
export { tidy, keep } from './memory.js';
export { Rng, manualSeed, globalRng } from './random.js';
export { type DType } from './storage.js';
export { pooledHostBytes as pooledStorageBytes, clearHostPool as clearStoragePool } from '../backend/index.js';
export { tensor, zeros, ones, randn, rand, arange } from './ops/create.js';
export {
  add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge,
  neg, exp, log, sqrt, tanh, relu, sigmoid, abs, gelu, where, maskedFill, full,
} from './ops/elementwise.js';
export { sum, sumSquares, mean, max, argmax } from './ops/reduce.js';
export { reshape, transpose, permute, slice, expand, unsqueeze, squeeze, contiguous, concat, split, stack } from './ops/shape.js';
export { matmul, linear } from './ops/matmul.js';
export { packedAttention, type PackedAttentionOptions, type PackedHeads } from './ops/attention.js';
export { softmax, logSoftmax, layerNorm, addLayerNorm, dropout, reluDropout, embedding, crossEntropy, linearCrossEntropy, type SoftmaxOptions, type CrossEntropyOptions } from './ops/nn.js';
