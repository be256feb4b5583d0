// BERT's basic tokenizer (Devlin et al. 2019, §A.2 / the released tokenization.py), as Hugging Face tokenizers'
// BertNormalizer and BertPreTokenizer do it: drop control characters and map whitespace to spaces, put spaces
// around CJK ideographs, strip accents (NFD, then drop combining marks), lower-case, then split on whitespace
// and isolate every punctuation character.

/** Options of the normalizer (BertNormalizer's fields). */
export interface BertNormalizeOptions { lowercase: boolean; stripAccents: boolean; cleanText: boolean; handleChineseChars: boolean; }

/** The CJK Unified Ideographs blocks that BERT splits character by character. */
function isCjk(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) || (cp >= 0x2a700 && cp <= 0x2b73f)
    || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

const WHITESPACE = /[\t\n\r\p{Zs}]/u;
const CONTROL = /[\p{Cc}\p{Cf}]/u;
const COMBINING = /\p{Mn}/u;
/** ASCII punctuation (Rust's is_ascii_punctuation) or any Unicode punctuation category. */
const PUNCTUATION = /[!-/:-@[-`{-~]|\p{P}/u;

/** BertNormalizer: clean, space out CJK, strip accents, lower-case. */
export function bertNormalize(text: string, o: BertNormalizeOptions): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (o.cleanText) {
      if (cp === 0 || cp === 0xfffd) continue;
      if (WHITESPACE.test(ch)) { out += ' '; continue; }
      if (CONTROL.test(ch)) continue;
    }
    out += o.handleChineseChars && isCjk(cp) ? ` ${ch} ` : ch;
  }
  if (o.stripAccents) out = Array.from(out.normalize('NFD')).filter((c) => !COMBINING.test(c)).join('');
  return o.lowercase ? out.toLowerCase() : out;
}

/** BertPreTokenizer: split on whitespace, each punctuation character a word of its own. */
export function bertPreTokenize(text: string): string[] {
  const words: string[] = [];
  let word = '';
  for (const ch of text) {
    if (/\s/u.test(ch)) {
      if (word !== '') words.push(word);
      word = '';
    } else if (PUNCTUATION.test(ch)) {
      if (word !== '') words.push(word);
      words.push(ch);
      word = '';
    } else {
      word += ch;
    }
  }
  if (word !== '') words.push(word);
  return words;
}
