// Training presets: the model shape plus the recipe (§5: batching, Adam, warmup schedule, regularisation)
// for a corpus. `multi30k-de-en` is the documented CPU recipe; `demo` is a few minutes of it, to watch learn.

import type { PresetName, TransformerConfig } from '../models/config.js';

/** Everything a translation run needs besides the output directory. */
export interface TrainSettings {
  /** Model preset and overrides (vocab sizes are set from the tokenizer). */
  modelPreset: PresetName;
  model: Partial<TransformerConfig>;
  srcLang: 'de' | 'en';
  tgtLang: 'de' | 'en';
  /** Joint BPE vocabulary size (source and target share it, as in the paper). */
  vocabSize: number;
  /** Padded tokens per batch on each side. */
  batchTokens: number;
  maxSteps: number;
  /** Stop after this many minutes of training (0 = no limit). */
  maxMinutes: number;
  warmup: number;
  /** Multiplies the §5.3 learning rate. */
  lrFactor: number;
  /** Global gradient-norm clip (0 = off). */
  clipNorm: number;
  /** Steps between validation loss/BLEU evaluations. */
  evalEvery: number;
  /** Validation sentences decoded greedily for BLEU at each evaluation (0 = none). */
  bleuSentences: number;
  /** Steps between checkpoints. */
  checkpointEvery: number;
  /** Checkpoints kept on disk (the newest). */
  keepCheckpoints: number;
  seed: number;
}

/** The named training presets. */
export const TRAIN_PRESETS: Record<string, TrainSettings> = {
  'multi30k-de-en': {
    modelPreset: 'small', model: { dropout: 0.3, attentionDropout: 0.1, finalNorm: true, shareEmbeddings: 'all', maxLen: 256 },
    srcLang: 'de', tgtLang: 'en', vocabSize: 8000, batchTokens: 4096, maxSteps: 20000, maxMinutes: 120, warmup: 1000,
    lrFactor: 0.7, clipNorm: 0, evalEvery: 500, bleuSentences: 200, checkpointEvery: 500, keepCheckpoints: 8, seed: 1,
  },
  'multi30k-en-de': {
    modelPreset: 'small', model: { dropout: 0.3, attentionDropout: 0.1, finalNorm: true, shareEmbeddings: 'all', maxLen: 256 },
    srcLang: 'en', tgtLang: 'de', vocabSize: 8000, batchTokens: 4096, maxSteps: 20000, maxMinutes: 120, warmup: 1000,
    lrFactor: 0.7, clipNorm: 0, evalEvery: 500, bleuSentences: 200, checkpointEvery: 500, keepCheckpoints: 8, seed: 1,
  },
  demo: {
    modelPreset: 'tiny', model: { dropout: 0.1, attentionDropout: 0.1, finalNorm: true, shareEmbeddings: 'all', maxLen: 256 },
    srcLang: 'de', tgtLang: 'en', vocabSize: 4000, batchTokens: 2048, maxSteps: 2000, maxMinutes: 4, warmup: 300,
    lrFactor: 0.5, clipNorm: 0, evalEvery: 200, bleuSentences: 100, checkpointEvery: 200, keepCheckpoints: 2, seed: 1,
  },
};

/** A preset by name, with a clear error listing the known ones. */
export function trainPreset(name: string): TrainSettings {
  const p = TRAIN_PRESETS[name];
  if (p === undefined) throw new Error(`unknown training preset '${name}'; known: ${Object.keys(TRAIN_PRESETS).join(', ')}`);
  return { ...p, model: { ...p.model } };
}
