// aiayn: the Transformer of "Attention Is All You Need" (Vaswani et al. 2017) in TypeScript.
export * from './tensor/index.js';
export { getBackend, setBackend, initBackend, coreOnly, availableBackends, nativeLoadError, type Backend, type BackendName } from './backend/index.js';
export * from './nn/index.js';
export * from './models/index.js';
export * from './train/index.js';
export * from './decode/index.js';
export * from './io/index.js';
export { loadModelDir, saveModelDir, type LoadedModel } from './io/model-dir.js';
export { toTorchStateDict, loadTorchStateDict } from './io/torch-names.js';
export { loadHfBert, saveHfBert, bertConfigFromHf, bertConfigToHf, type LoadedBert } from './io/hf-bert.js';
export { WordPiece, wordPieceToJson, wordPieceFromJson } from './data/index.js';
export { RobertaTokenizer, encoderTokenizerFromJson, loadEncoderTokenizer, wordPieceEncoderTokenizer, type EncoderTokenizer } from './data/index.js';
export { Bpe, Gpt2Tokenizer, TokenBatcher, readMulti30k, PAD_ID, BOS_ID, EOS_ID, UNK_ID } from './data/index.js';
export { corpusBleu, sentenceBleu, corpusChrf, corpusTer } from './eval/index.js';
export { loadHfGpt2, saveHfGpt2, loadGpt2Weights, gpt2Tensors, toHfGpt2Name } from './io/hf-gpt2.js';
export { loadGptDir, saveGptDir, type LoadedGpt } from './io/gpt-dir.js';
export { CharTokenizer } from './data/index.js';
export { trainLm, type LmRun, type LmResult } from './train/lm.js';
