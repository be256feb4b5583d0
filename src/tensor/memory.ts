// Deterministic memory: tensors created inside `tidy` are disposed when it returns (except what it returns
// and what `keep` exempts), so their buffers go back to the pool at once instead of waiting for the GC.

/** Anything a scope can dispose. */
export interface Disposable { dispose(): void; readonly isDisposed: boolean; }

const scopes: Array<Set<Disposable>> = [];

/** Registers a new tensor with the innermost scope (if any). */
export function track(t: Disposable): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Exempts a tensor from every open scope, so it outlives them (parameters, optimizer state, results). */
export function keep<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/** Collects the tensors reachable from a value (a tensor, or arrays / plain objects of them). */
function collect(value: unknown, out: Set<Disposable>): void {
  if (value === null || typeof value !== 'object') return;
  if ('dispose' in value && 'isDisposed' in value) { out.add(value as Disposable); return; }
  if (Array.isArray(value)) { for (const v of value) collect(v, out); return; }
  if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out);
}

/**
 * Runs fn and disposes every tensor it created, except those in its result, which move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors);
  for (const t of scope) {
    if (survivors.has(t)) track(t);
    else if (!t.isDisposed) t.dispose();
  }
  return result;
}
