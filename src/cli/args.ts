// A small argument parser shared by the commands: `--flag value`, `--flag=value`, boolean flags, positionals.

/** An error in how a command was called; the CLI prints its message and exits with 2. */
export class CliError extends Error {}

/** What parseArgs returns: named options (string or true) and the positional arguments. */
export interface ParsedArgs { options: Map<string, string | true>; positionals: string[]; }

/**
 * Parses argv. `booleans` names the flags that take no value; `aliases` maps short names (`-o`) to long ones.
 * Options listed in `repeatable` collect their values joined by '\u0000' (use `getList`).
 */
export function parseArgs(argv: string[], spec: { booleans?: string[]; aliases?: Record<string, string>; repeatable?: string[] } = {}): ParsedArgs {
  const booleans = new Set(spec.booleans ?? []);
  const repeatable = new Set(spec.repeatable ?? []);
  const options = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('-') || arg === '-') { positionals.push(arg); continue; }
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const name = spec.aliases?.[arg] ?? arg.replace(/^--?/, '');
    if (booleans.has(name)) { options.set(name, true); continue; }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new CliError(`option --${name} needs a value`);
    }
    const prev = options.get(name);
    options.set(name, repeatable.has(name) && typeof prev === 'string' ? `${prev}\u0000${value}` : value);
  }
  return { options, positionals };
}

/** Reads a string option, or the default. */
export function getString(args: ParsedArgs, name: string, fallback?: string): string | undefined {
  const v = args.options.get(name);
  if (v === true) throw new CliError(`option --${name} needs a value`);
  return v ?? fallback;
}

/** Reads a repeatable option as a list. */
export function getList(args: ParsedArgs, name: string): string[] {
  const v = getString(args, name);
  return v === undefined ? [] : v.split('\u0000');
}

/** Reads a numeric option, with a clear error when it is not a number. */
export function getNumber(args: ParsedArgs, name: string, fallback?: number): number | undefined {
  const v = getString(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`option --${name} must be a number, got '${v}'`);
  return n;
}

/** Sets target[key] from each numeric flag given in `flags` ([flag, key] pairs); flags not given leave the target as it is. */
export function applyNumbers<T extends object>(args: ParsedArgs, target: T, flags: ReadonlyArray<readonly [string, keyof T]>): void {
  for (const [flag, key] of flags) {
    const v = getNumber(args, flag);
    if (v !== undefined) (target as Record<keyof T, unknown>)[key] = v;
  }
}

/** The --out directory, which the command requires. */
export function requireOut(args: ParsedArgs): string {
  const out = getString(args, 'out');
  if (out === undefined) throw new CliError('--out DIR is required');
  return out;
}

/** True when a boolean flag was given. */
export function getFlag(args: ParsedArgs, name: string): boolean {
  return args.options.get(name) === true;
}
