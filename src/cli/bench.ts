// `aiayn bench gemm [--json]`: benchmarks that ship with the package.

import { benchGemm, formatGemmTable } from '../bench/gemm.js';
import { CliError, getFlag, parseArgs } from './args.js';

/** Runs `aiayn bench`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['json', 'help'] });
  const [what] = args.positionals;
  if (getFlag(args, 'help') || what === undefined) { console.log('usage: aiayn bench gemm [--json]'); return what === undefined ? 1 : 0; }
  if (what !== 'gemm') throw new CliError(`unknown benchmark '${what}' (known: gemm)`);
  const rows = benchGemm();
  console.log(getFlag(args, 'json') ? JSON.stringify({ results: rows }) : formatGemmTable(rows));
  return 0;
}
