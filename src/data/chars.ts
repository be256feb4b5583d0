// A character-level tokenizer (as nanoGPT's shakespeare_char and char-rnn use): the sorted distinct characters of
// a corpus, one id each.
import { DataError } from './files.js';

/** Characters <-> ids, ids in the order of the sorted distinct characters. */
export class CharTokenizer {
  private readonly ids = new Map<string, number>();
  private readonly list: string[];

  /** `chars`: every character of the vocabulary, each once, in id order. */
  constructor(readonly chars: string) {
    this.list = Array.from(chars);
    this.list.forEach((c, i) => {
      if (this.ids.has(c)) throw new DataError(`character tokenizer: ${JSON.stringify(c)} appears twice in the vocabulary`);
      this.ids.set(c, i);
    });
  }

  /** The tokenizer of a corpus: its distinct characters, sorted by code point. */
  static fromText(text: string): CharTokenizer {
    return new CharTokenizer([...new Set(Array.from(text))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!).join(''));
  }

  /** The number of ids. */
  get vocabSize(): number { return this.ids.size; }

  /** Text -> ids; a character outside the vocabulary is an error that names it and its position. */
  encode(text: string): number[] {
    return Array.from(text, (c, i) => {
      const id = this.ids.get(c);
      if (id === undefined) throw new DataError(`character ${JSON.stringify(c)} at position ${i} is not in the vocabulary of ${this.ids.size} characters`);
      return id;
    });
  }

  /** Ids -> text; an id outside the vocabulary is a RangeError. */
  decode(ids: ArrayLike<number>): string {
    return Array.from(ids, (id) => {
      const c = this.list[id];
      if (c === undefined) throw new RangeError(`token id ${id} is outside the vocabulary of ${this.list.length} characters`);
      return c;
    }).join('');
  }
}
