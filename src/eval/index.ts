// Translation metrics equal to sacreBLEU 2.6.0: BLEU, chrF/chrF++ and TER, plus their signatures. Pure TypeScript.
export { computeBleu, corpusBleu, sentenceBleu, type BleuOptions, type BleuScore, type BleuStats, type SmoothMethod } from './bleu.js';
export { TOKENIZERS, tokenize, type TokenizerName } from './tokenizers.js';
export { formatScore, formatSignature, scoreToJson, SACREBLEU_VERSION, type MetricScore, type Signature } from './signature.js';
export { corpusChrf, sentenceChrf, type ChrfOptions, type ChrfScore } from './chrf.js';
export { corpusTer, sentenceTer, type TerOptions, type TerScore } from './ter.js';
