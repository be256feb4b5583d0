// The pre-tokenizer of the Sennrich BPE: text becomes words (each keeping one following space) and whitespace runs.
// Concatenating the pieces gives back the text exactly, so decoding is lossless.

const PIECE = /\S+ ?|\s+/gu;

/** Splits text into pre-tokens: a non-space run with at most one trailing U+0020, or a run of other whitespace. */
export function splitWords(text: string): string[] {
  return text.match(PIECE) ?? [];
}

/**
 * The initial symbols of a pre-token: its code points, except that a word's last character is joined with the
 * trailing space (the counterpart of subword-nmt's end-of-word marker).
 */
export function initialSymbols(word: string): string[] {
  const chars = Array.from(word);
  const n = chars.length;
  if (n >= 2 && chars[n - 1] === ' ' && chars[n - 2] !== ' ' && !/\s/u.test(chars[n - 2]!)) {
    chars[n - 2] += ' ';
    chars.pop();
  }
  return chars;
}
