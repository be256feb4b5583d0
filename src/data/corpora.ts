// The corpora bundled in data/: Multi30k Task 1 En-De (raw text, gzip), no download needed.
import { fileURLToPath } from 'node:url';
import { readParallel, type LinePair } from './files.js';

/** The Multi30k splits bundled in data/multi30k. */
export const MULTI30K_SPLITS = ['train', 'val', 'test_2016_flickr', 'test_2017_flickr', 'test_2017_mscoco', 'test_2018_flickr'] as const;
/** A bundled Multi30k split. */
export type Multi30kSplit = (typeof MULTI30K_SPLITS)[number];
/** A Multi30k language. */
export type Multi30kLang = 'de' | 'en';

/** The path of a bundled Multi30k file, e.g. multi30kPath('train', 'de') → …/data/multi30k/train.de.gz. */
export function multi30kPath(split: Multi30kSplit, lang: Multi30kLang): string {
  return fileURLToPath(new URL(`../../data/multi30k/${split}.${lang}.gz`, import.meta.url));
}

/** Reads a bundled Multi30k split as aligned pairs (default English → German, the paper's direction). */
export async function readMulti30k(split: Multi30kSplit, src: Multi30kLang = 'en', tgt: Multi30kLang = 'de'): Promise<LinePair[]> {
  const pairs: LinePair[] = [];
  for await (const pair of readParallel(multi30kPath(split, src), multi30kPath(split, tgt))) pairs.push(pair);
  return pairs;
}

/** Where the bundled tiny Shakespeare (char-rnn's input.txt, gzipped) lies. */
export const TINY_SHAKESPEARE_PATH = fileURLToPath(new URL('../../data/tinyshakespeare/input.txt.gz', import.meta.url));
