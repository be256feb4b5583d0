// The `aiayn` command line: one file per command, loaded on demand so `aiayn bleu` never loads tensors.
import { CliError } from './args.js';

/** A command module exports `run(argv)` that resolves to an exit code. */
interface CommandModule { run(argv: string[]): Promise<number>; }

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  demo: { summary: 'train a small model on bundled data and show it learn', load: () => import('./demo.js') },
  bpe: { summary: 'learn a BPE tokenizer; encode or decode text with it or with GPT-2', load: () => import('./bpe.js') },
  bench: { summary: 'benchmarks (bench gemm)', load: () => import('./bench.js') },
  bleu: { summary: 'score translations with BLEU, chrF and TER (equal to sacreBLEU 2.6.0)', load: () => import('./bleu.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: aiayn <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'aiayn <command> --help' for a command's options.`;
}

/** Runs the CLI with the given arguments (without `node` and the script) and resolves to an exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`aiayn: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`aiayn ${name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
