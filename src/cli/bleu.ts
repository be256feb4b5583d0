// `aiayn bleu`: scores a hypothesis file against references with BLEU, chrF and TER, like sacreBLEU 2.6.0's CLI.
import { readFileSync } from 'node:fs';
import { CliError, getFlag, getNumber, getString, parseArgs } from './args.js';
import { corpusBleu, corpusChrf, corpusTer, formatScore, scoreToJson, TOKENIZERS, type MetricScore, type TokenizerName } from '../eval/index.js';
import { pyRstrip } from '../eval/text.js';

const USAGE = `usage: aiayn bleu REF [REF2 ...] [-i HYP] [--tokenize 13a|none|intl|char] [--lowercase]
                  [-m bleu chrf ter] [--chrf-word-order N] [-w WIDTH] [--json]

Scores the hypothesis (file given with -i, else stdin; one segment per line) against one or more
reference files, equal to sacreBLEU 2.6.0. Reference files come before -m. --tokenize and --lowercase
apply to BLEU; --chrf-word-order 2 gives chrF++; TER uses sacreBLEU's defaults (lowercased, tercom).
Prints one sacreBLEU-style line per metric (score rounded to WIDTH decimals, default 1), or with --json
a JSON array of sacreBLEU's JSON objects with the unrounded score.`;

const METRICS = ['bleu', 'chrf', 'ter'] as const;
type Metric = (typeof METRICS)[number];

/** Takes `-m/--metrics` and the names after it (sacreBLEU's nargs='+') out of argv. */
function takeMetrics(argv: string[]): { rest: string[]; metrics: Metric[] } {
  const rest: string[] = [];
  const metrics: Metric[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '-m' && argv[i] !== '--metrics') { rest.push(argv[i]!); continue; }
    const start = metrics.length;
    while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
      const name = argv[++i]!.toLowerCase();
      if (!(METRICS as readonly string[]).includes(name)) throw new CliError(`unknown metric '${name}' (choose from ${METRICS.join(', ')})`);
      metrics.push(name as Metric);
    }
    if (metrics.length === start) throw new CliError(`option ${argv[i]} needs one or more of ${METRICS.join(', ')}`);
  }
  return { rest, metrics };
}

/** Splits file contents into lines like Python's text-mode iteration, each right-stripped as sacreBLEU does. */
function toLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map(pyRstrip);
}

/** Reads a file's lines, turning a read failure into a CLI error that names the file. */
function readLinesOf(path: string, what: string): string[] {
  try {
    return toLines(readFileSync(path).toString('utf8'));
  } catch (err) {
    throw new CliError(`cannot read ${what} file '${path}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Reads all of stdin as UTF-8 (a BOM is kept, as in Python). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Prints text lines aligned on '=' the way sacreBLEU aligns several metrics. */
function alignLines(lines: string[]): string {
  const widths = lines.map((line) => line.indexOf('=') - 1);
  const w = Math.max(...widths);
  return lines.map((line, k) => line.slice(0, widths[k]).padStart(w) + line.slice(widths[k])).join('\n');
}

/** Runs `aiayn bleu` and resolves to an exit code. */
export async function run(argv: string[]): Promise<number> {
  const { rest, metrics } = takeMetrics(argv);
  const args = parseArgs(rest, { booleans: ['lowercase', 'json', 'help'], aliases: { '-i': 'input', '-lc': 'lowercase', '-w': 'width', '-h': 'help' } });
  if (getFlag(args, 'help')) {
    console.log(USAGE);
    return 0;
  }
  const known = new Set(['input', 'tokenize', 'lowercase', 'chrf-word-order', 'width', 'json']);
  for (const name of args.options.keys()) if (!known.has(name)) throw new CliError(`unknown option --${name}\n\n${USAGE}`);
  if (args.positionals.length === 0) throw new CliError(`no reference file given\n\n${USAGE}`);
  const tokenize = getString(args, 'tokenize', '13a')!;
  if (!(TOKENIZERS as readonly string[]).includes(tokenize)) throw new CliError(`unknown tokenizer '${tokenize}' (choose from ${TOKENIZERS.join(', ')})`);
  const wordOrder = getNumber(args, 'chrf-word-order', 0)!;
  const width = getNumber(args, 'width', 1)!;
  if (!Number.isInteger(wordOrder) || wordOrder < 0) throw new CliError('--chrf-word-order must be a whole number >= 0');
  if (!Number.isInteger(width) || width < 0 || width > 20) throw new CliError('--width must be a whole number from 0 to 20');

  const refFiles = args.positionals;
  const refs = refFiles.map((file) => readLinesOf(file, 'reference'));
  const input = getString(args, 'input');
  const hypName = input ?? 'stdin';
  const hyps = input === undefined ? toLines(await readStdin()) : readLinesOf(input, 'hypothesis');
  refs.forEach((stream, k) => {
    if (stream.length !== hyps.length) {
      throw new CliError(`the hypothesis has ${hyps.length} lines (${hypName}) but reference ${refFiles[k]} has ${stream.length} lines`);
    }
  });
  hyps.forEach((_, i) => {
    if (refs.every((stream) => stream[i] === '')) throw new CliError(`line ${i + 1} is empty in every reference file`);
  });

  const chosen = new Set<Metric>(metrics.length > 0 ? metrics : ['bleu']);
  const scores: MetricScore[] = [];
  // sacreBLEU prints metrics sorted by name: BLEU, CHRF, TER
  if (chosen.has('bleu')) scores.push(corpusBleu(hyps, refs, { tokenize: tokenize as TokenizerName, lowercase: getFlag(args, 'lowercase') }));
  if (chosen.has('chrf')) scores.push(corpusChrf(hyps, refs, { wordOrder }));
  if (chosen.has('ter')) scores.push(corpusTer(hyps, refs));
  if (getFlag(args, 'json')) {
    console.log(`[\n${scores.map((s) => JSON.stringify(scoreToJson(s), null, 1)).join(',\n')}\n]`);
  } else {
    console.log(alignLines(scores.map((s) => formatScore(s, width))));
  }
  return 0;
}
