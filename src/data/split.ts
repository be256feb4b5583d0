// Deterministic train/validation splits.
import { seededRandom, shuffleInPlace } from './random.js';

/** How to split: the validation share (default 0.1) or an exact size, and the seed that picks the items. */
export interface SplitOptions { valFraction?: number; valSize?: number; seed?: number; }

/** Splits items into train and val sets; the same seed gives the same split, and both keep the input order. */
export function splitTrainVal<T>(items: readonly T[], options: SplitOptions = {}): { train: T[]; val: T[] } {
  const n = items.length;
  const valSize = options.valSize ?? Math.round(n * (options.valFraction ?? 0.1));
  if (!Number.isInteger(valSize) || valSize < 0 || valSize > n) throw new RangeError(`validation size ${valSize} is not within 0..${n}`);
  const order = shuffleInPlace(Array.from({ length: n }, (_, i) => i), seededRandom(options.seed ?? 0));
  const isVal = new Uint8Array(n);
  for (let k = 0; k < valSize; k++) isVal[order[k]!] = 1;
  const train: T[] = [], val: T[] = [];
  items.forEach((item, i) => (isVal[i] ? val : train).push(item));
  return { train, val };
}

/** Splits one text into a leading train part and a trailing val part (the nanoGPT convention, default 10% val). */
export function splitTextTrainVal(text: string, valFraction = 0.1): { train: string; val: string } {
  if (!(valFraction >= 0 && valFraction <= 1)) throw new RangeError(`valFraction ${valFraction} is not within 0..1`);
  let cut = Math.round(text.length * (1 - valFraction));
  if (/[\uDC00-\uDFFF]/.test(text[cut] ?? '')) cut++; // never split a surrogate pair
  return { train: text.slice(0, cut), val: text.slice(cut) };
}
