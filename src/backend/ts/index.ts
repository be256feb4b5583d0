// The pure TypeScript backend: runs in any JavaScript engine (browser included) and is the oracle in tests.

import type { Backend } from '../backend.js';
import { hostBackend } from '../host/backend.js';
import type { HostKernels } from '../host/kernels.js';
import { binary, copy, unary, unaryBackward, where } from './elementwise.js';
import { attentionBackward, attentionScores } from './attention.js';
import { bindDecoderStep } from './decoder-step.js';
import { gemm } from './gemm.js';
import { adam, crossEntropy, dropout, dropoutBackward, embedding, embeddingBackward, layerNorm, layerNormBackward, softmax, softmaxBackward } from './nn.js';
import { argmax, reduce } from './reduce.js';

/** The TypeScript kernels over typed arrays. */
export const tsKernels: HostKernels = {
  threads: () => 1,
  copy, unary, unaryBackward, binary, where, reduce, argmax, gemm,
  softmax, softmaxBackward, layerNorm, layerNormBackward, crossEntropy,
  dropout, dropoutBackward, embedding, embeddingBackward, adam, attentionScores, attentionBackward, bindDecoderStep,
};

/** The TypeScript backend. */
export const tsBackend: Backend = hostBackend('ts', tsKernels);
