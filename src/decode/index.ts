// Decoding: greedy, beam search with length penalty, and sampling, over any IncrementalDecoder.
export type { IncrementalDecoder, SearchOptions } from './types.js';
export { greedyDecode } from './greedy.js';
export { beamSearch, lengthPenalty, type BeamOptions } from './beam.js';
export { sampleDecode, sampleToken, type SamplingOptions } from './sampling.js';
export { TransformerDecoder, padBatch } from './transformer-decoder.js';
export { translate, type TranslateOptions, type TextCodec } from './translate.js';
export { generate, checkPrompt, type GenerateOptions } from './generate.js';
