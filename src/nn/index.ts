// Neural-network modules of the paper (§3): attention, feed-forward, positional encodings, the stacks.
export { Module, ModuleList, type LoadOptions, type StateEntry } from './module.js';
export { Linear, linear } from './linear.js';
export { Embedding } from './embedding.js';
export { LayerNorm } from './layernorm.js';
export { Dropout } from './dropout.js';
export { SinusoidalPositionalEncoding, LearnedPositionalEncoding, sinusoidalTable, offsetMatrix, type PositionalEncoder } from './positional.js';
export {
  scaledDotProductAttention, ScaledDotProductAttention, AdditiveAttention, GeneralAttention, MultiHeadAttention, makeAttention,
  type AttentionKind, type AttentionResult,
} from './attention.js';
export { PositionwiseFeedForward, type Activation } from './feedforward.js';
export { Encoder, EncoderLayer } from './encoder.js';
export { Decoder, DecoderLayer } from './decoder.js';
export { causalMask, keyPaddingMask, padMaskFromIds, combineMasks } from './masks.js';
