// Python-compatible string helpers, so scores match sacreBLEU byte for byte.
// Python's str.split()/strip() whitespace differs from JS `\s`: it has U+001C..U+001F and U+0085 but not U+FEFF (BOM).

const WS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WORDS = new RegExp(`[^${WS}]+`, 'g');
const TRAILING_WS = new RegExp(`[${WS}]+$`);

/** Splits on runs of Python whitespace, dropping empty pieces (Python's `s.split()`). */
export function pySplit(s: string): string[] {
  return s.match(WORDS) ?? [];
}

/** Removes trailing Python whitespace (Python's `s.rstrip()`). */
export function pyRstrip(s: string): string {
  return s.replace(TRAILING_WS, '');
}

/** Formats like Python's `f'{x:.{digits}f}'`: exact ties round half to even (JS `toFixed` rounds them up). */
export function pyFixed(x: number, digits: number): string {
  const fixed = x.toFixed(digits);
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 30));
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + digits + 1);
  if (!/^50*$/.test(tail)) return fixed;
  const lastKept = exact[digits === 0 ? dot - 1 : dot + digits]!;
  if (Number(lastKept) % 2 === 1) return fixed;
  return (x < 0 ? '-' : '') + exact.slice(0, digits === 0 ? dot : dot + digits + 1);
}

/** Counts the items of a list into a Map (Python's `Counter`). */
export function countAll(items: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}
