// Fitting one or two token sequences into a model input of bounded length, as Hugging Face tokenizers'
// `longest_first` truncation does: drop the last token of the longer sequence (the first on a tie) until they fit.

/** The two sequences cut, longest first, to at most `room` tokens together; `who` names the caller in errors. */
export function truncateLongestFirst(x: readonly number[], y: readonly number[], room: number, who: string): [number[], number[]] {
  if (room < 0) throw new Error(`${who}: the length limit leaves no room for the special tokens`);
  let nx = x.length, ny = y.length;
  while (nx + ny > room) {
    if (nx >= ny) nx--; else ny--;
  }
  return [x.slice(0, nx), y.slice(0, ny)];
}
