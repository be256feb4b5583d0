// The benchmark scripts' command lines: `--flag [value]` pairs walked in order, with the value readers they share.

/** Reads the value that follows the flag being handled. */
export interface FlagValue {
  /** The next argument; throws when there is none. */
  text(): string;
  /** The next argument as a positive integer; throws otherwise. */
  count(): number;
}

/** Calls `take` for each flag of argv with a reader of its value; a flag `take` does not know (false) throws. */
export function eachFlag(argv: readonly string[], take: (flag: string, value: FlagValue) => boolean): void {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const text = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const count = (): number => {
      const n = Number(text());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
      return n;
    };
    if (!take(flag, { text, count })) throw new Error(`unknown argument '${flag}'`);
  }
}
