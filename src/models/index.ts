// Models built from the blocks: the encoder-decoder Transformer and its configuration presets.
export { Transformer, type PadMasks } from './transformer.js';
export { makeConfig, validateConfig, PRESETS, type TransformerConfig, type PresetName } from './config.js';
export { Gpt } from './gpt.js';
export { GPT_PRESETS, makeGptConfig, validateGptConfig, type GptConfig, type GptPresetName } from './gpt-config.js';
export { Bert, BertEmbeddings, MlmHead, positionIds, IGNORE_LABEL, type BertInputs } from './bert.js';
export { makeBertConfig, validateBertConfig, BERT_PRESETS, type BertConfig, type BertVariant, type BertPresetName } from './bert-config.js';
