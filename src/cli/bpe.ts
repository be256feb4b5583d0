// `aiayn bpe`: learn a BPE tokenizer from text files, and encode or decode text line by line.
import { CliError, getFlag, getList, getNumber, getString, parseArgs } from './args.js';
import { AtomicWriter, Bpe, countWords, DataError, Gpt2Tokenizer, readLines, readLinesFrom } from '../data/index.js';

const USAGE = `usage: aiayn bpe learn -i FILE... [--vocab-size N | --merges N] [--min-frequency F] -o bpe.json
       aiayn bpe encode (-m bpe.json | --gpt2) [--ids] [-i FILE] [-o FILE]
       aiayn bpe decode (-m bpe.json | --gpt2) [-i FILE] [-o FILE]

learn    learns a joint BPE over all input files (plain or .gz, one sentence per line); default --vocab-size 8000
encode   one output line per input line: token ids with --ids, else token texts (spaces shown as U+2581)
decode   reads lines of space-separated token ids and writes the text
Input defaults to stdin and output to stdout; -o files are written to a temporary file and renamed at the end.`;

/** A tokenizer as the CLI uses it. */
interface Tokenizer { encode(text: string): number[]; decode(ids: number[]): string; tokenText(id: number): string; }

/** Where output lines go: a file that appears only when complete, or stdout. */
interface Sink { write(text: string): Promise<void>; commit(): Promise<void>; abort(): Promise<void>; }

/** Writes to stdout, waiting for it to drain when its buffer is full. */
function stdoutSink(): Sink {
  const write = (text: string): Promise<void> =>
    new Promise((resolve) => { if (process.stdout.write(text)) resolve(); else process.stdout.once('drain', resolve); });
  return { write, commit: async () => undefined, abort: async () => undefined };
}

/** Runs `aiayn bpe` and resolves to an exit code. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, {
    booleans: ['ids', 'gpt2', 'help'],
    aliases: { '-i': 'input', '-o': 'output', '-m': 'model', '-h': 'help' },
    repeatable: ['input'],
  });
  const [sub, ...rest] = args.positionals;
  if (getFlag(args, 'help') || sub === undefined) {
    console.log(USAGE);
    return sub === undefined && !getFlag(args, 'help') ? 1 : 0;
  }
  try {
    if (sub === 'learn') return await learn([...getList(args, 'input'), ...rest], args);
    if (rest.length > 0) throw new CliError(`unexpected argument '${rest[0]}'`);
    if (sub === 'encode' || sub === 'decode') return await transform(sub, args);
    throw new CliError(`unknown subcommand '${sub}'\n\n${USAGE}`);
  } catch (err) {
    if (err instanceof DataError) {
      console.error(`aiayn bpe: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

/** `bpe learn`: counts words over all files, learns, and saves the tokenizer. */
async function learn(files: string[], args: ReturnType<typeof parseArgs>): Promise<number> {
  const output = getString(args, 'output');
  if (files.length === 0) throw new CliError('learn needs input files (-i FILE...)');
  if (output === undefined) throw new CliError('learn needs an output file (-o bpe.json)');
  const merges = getNumber(args, 'merges');
  const vocabSize = merges === undefined ? getNumber(args, 'vocab-size', 8000) : undefined;
  const minFrequency = getNumber(args, 'min-frequency', 2);
  const counts = new Map<string, number>();
  for (const file of files) {
    let chunk: string[] = [];
    for await (const line of readLines(file)) {
      chunk.push(line);
      if (chunk.length === 4096) { countWords(chunk, counts); chunk = []; }
    }
    countWords(chunk, counts);
  }
  let bpe: Bpe;
  try { bpe = Bpe.learnFromCounts(counts, { vocabSize, merges, minFrequency }); } catch (err) {
    if (err instanceof RangeError) throw new CliError(err.message);
    throw err;
  }
  await bpe.save(output);
  console.error(`aiayn bpe: learned ${bpe.merges.length} merges, vocabulary ${bpe.vocabSize} → ${output}`);
  return 0;
}

/** The tokenizer named by -m, or the bundled GPT-2 one for --gpt2. */
async function loadTokenizer(args: ReturnType<typeof parseArgs>): Promise<Tokenizer> {
  const model = getString(args, 'model');
  if (getFlag(args, 'gpt2') === (model !== undefined)) throw new CliError('give exactly one of -m bpe.json and --gpt2');
  return model === undefined ? Gpt2Tokenizer.bundled() : Bpe.load(model);
}

/** Shows a token's text on one line: spaces as U+2581, other line-breaking characters escaped. */
function visible(text: string): string {
  return text.replace(/[ \t\n\r\\]/g, (c) => ({ ' ': '\u2581', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\' })[c]!);
}

/** `bpe encode` and `bpe decode`: one output line per input line. */
async function transform(mode: 'encode' | 'decode', args: ReturnType<typeof parseArgs>): Promise<number> {
  const tokenizer = await loadTokenizer(args);
  const input = getString(args, 'input'), output = getString(args, 'output');
  const ids = getFlag(args, 'ids');
  const lines = input === undefined ? readLinesFrom(process.stdin, '<stdin>', { allowEmpty: true }) : readLines(input);
  const inputName = input ?? '<stdin>';
  const sink: Sink = output === undefined ? stdoutSink() : await AtomicWriter.create(output);
  try {
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      let out: string;
      if (mode === 'decode') out = decodeLine(tokenizer, parseIds(line, inputName, lineNo), inputName, lineNo);
      else {
        const tokens = tokenizer.encode(line);
        out = ids ? tokens.join(' ') : tokens.map((t) => visible(tokenizer.tokenText(t))).join(' ');
      }
      await sink.write(out + '\n');
    }
    await sink.commit();
  } catch (err) {
    await sink.abort();
    throw err;
  }
  return 0;
}

/** Decodes one line's ids; an id outside the vocabulary is reported with the file and line. */
function decodeLine(tokenizer: Tokenizer, ids: number[], file: string, lineNo: number): string {
  try { return tokenizer.decode(ids); } catch (err) {
    if (err instanceof RangeError) throw new DataError(err.message, file, lineNo);
    throw err;
  }
}

/** Parses a line of space-separated token ids. */
function parseIds(line: string, file: string, lineNo: number): number[] {
  const fields = line.split(' ').filter((f) => f !== '');
  return fields.map((f) => {
    if (!/^\d+$/.test(f)) throw new DataError(`'${f}' is not a token id`, file, lineNo);
    return Number(f);
  });
}
