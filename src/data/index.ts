// The data path: BPE tokenizers (Sennrich, GPT-2 and RoBERTa byte-level), WordPiece, corpus readers, splits and token-count batching.
export { Bpe, countWords, SPECIAL_TOKENS, PAD_ID, BOS_ID, EOS_ID, UNK_ID, BPE_FORMAT, BPE_VERSION, type BpeJson, type BpeLearnOptions } from './bpe.js';
export { CharTokenizer } from './chars.js';
export { Gpt2Tokenizer, GPT2_PATTERN, GPT2_EOT, GPT2_RANKS_PATH } from './gpt2.js';
export { DataError, readLines, readLinesFrom, readAllLines, readParallel, readText, writeFileAtomic, AtomicWriter, type LinePair, type ReadLinesOptions } from './files.js';
export { splitTrainVal, splitTextTrainVal, type SplitOptions } from './split.js';
export { TokenBatcher, streamBatches, encodePairs, causalMask, type Example, type TranslationBatch, type BatchOptions } from './batching.js';
export { MULTI30K_SPLITS, multi30kPath, readMulti30k, type Multi30kSplit, type Multi30kLang } from './corpora.js';
export { seededRandom, shuffleInPlace } from './random.js';
export { WordPiece, WORDPIECE_SPECIALS, WORDPIECE_DEFAULTS, type WordPieceOptions, type WordPieceLearnOptions, type BertEncoding } from './wordpiece.js';
export { wordPieceToJson, wordPieceFromJson, wordPieceTokenizerConfig } from './wordpiece-json.js';
export { bertNormalize, bertPreTokenize, type BertNormalizeOptions } from './bert-pretokenize.js';
export { RobertaTokenizer, ROBERTA_SPECIALS, ROBERTA_MASK, type AddedToken, type RobertaLearnOptions } from './roberta-bpe.js';
export { encoderTokenizerFromJson, loadEncoderTokenizer, wordPieceEncoderTokenizer, type EncoderTokenizer } from './encoder-tokenizer.js';
