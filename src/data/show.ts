// Renders a value read from an untrusted file for an error message: as JSON, cut short, and never throwing
// (JSON.stringify and template strings recurse, so a value nested 20,000 deep would overflow the stack).

/** The value as JSON, at most `max` characters (with '...' when cut); '<too deeply nested>' when it cannot be written. */
export function showValue(value: unknown, max = 80): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return '<too deeply nested>';
  }
  if (text === undefined) return String(value);
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
