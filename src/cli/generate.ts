// `aiayn generate`: continues a prompt with a GPT model (an aiayn GPT directory or a Hugging Face GPT-2 one),
// streaming tokens to stdout as they are produced, with the key/value cache (src/decode/generate.ts).

import { Gpt2Tokenizer } from '../data/gpt2.js';
import { generate } from '../decode/generate.js';
import { loadGptDir, type LmTokenizer } from '../io/gpt-dir.js';
import { Rng } from '../tensor/random.js';
import { CliError, getFlag, getNumber, getString, parseArgs } from './args.js';

const HELP = `usage: aiayn generate --model DIR --prompt "..." [--max-new-tokens 100 --temperature 1 --top-k 0 --top-p 1 --seed 0]

  --model DIR         an aiayn GPT directory (aiayn train-lm) or a Hugging Face GPT-2 directory
                      (config.json + model.safetensors; tokenizer.json or vocab.json + merges.txt, else GPT-2's)
  --prompt TEXT       the text to continue (empty: <|endoftext|> for GPT-2 tokenizers, a newline for characters)
  --max-new-tokens N  tokens to generate (stops early at <|endoftext|>; past a full context, continues on its last tokens)
  --temperature T     0 picks the most likely token; --top-k K and --top-p P truncate the distribution
  --seed S            the sampling seed
  --allow-nonfinite   load weights that hold NaN or Inf`;

/** A positive integer option. */
function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new CliError(`--${name} must be a non-negative integer, got ${value}`);
  return value;
}

/** The prompt's ids; an empty prompt starts from <|endoftext|> (GPT-2) or a newline (characters). */
function promptIds(tokenizer: LmTokenizer, prompt: string): number[] {
  if (prompt !== '') return tokenizer.encode(prompt);
  return tokenizer instanceof Gpt2Tokenizer ? [tokenizer.eotId] : tokenizer.encode('\n');
}

/** Writes the decoded text of `ids` beyond what was written, holding back an incomplete UTF-8 character. */
function streamer(tokenizer: LmTokenizer, write: (s: string) => void): (ids: number[]) => void {
  let written = 0;
  return (ids) => {
    const text = tokenizer.decode(ids).replace(/\uFFFD+$/, '');
    if (text.length > written) { write(text.slice(written)); written = text.length; }
  };
}

/** Runs `aiayn generate`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['help', 'allow-nonfinite'], aliases: { '-m': 'model', '-h': 'help', '-p': 'prompt' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const dir = getString(args, 'model');
  if (dir === undefined) throw new CliError('--model DIR is required');
  const temperature = getNumber(args, 'temperature', 1)!;
  if (!(temperature >= 0)) throw new CliError(`--temperature must be >= 0, got ${temperature}`);
  const topP = getNumber(args, 'top-p', 1)!;
  if (!(topP > 0 && topP <= 1)) throw new CliError(`--top-p must be in (0, 1], got ${topP}`);
  const opts = {
    maxNewTokens: positiveInt(getNumber(args, 'max-new-tokens', 100)!, 'max-new-tokens'), temperature, topP,
    topK: positiveInt(getNumber(args, 'top-k', 0)!, 'top-k'), rng: new Rng(getNumber(args, 'seed', 0)),
  };
  const nonfinite = { allowNonfinite: getFlag(args, 'allow-nonfinite'), warn: (line: string) => console.error(`aiayn: ${line}`) };
  let loaded;
  let prompt: number[];
  try {
    loaded = await loadGptDir(dir, nonfinite);
    prompt = promptIds(loaded.tokenizer, getString(args, 'prompt', '')!);
    if (prompt.length > loaded.model.config.maxLen) throw new Error(`the prompt has ${prompt.length} tokens, more than the model's context of ${loaded.model.config.maxLen}`);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const { model, tokenizer } = loaded;
  const stopId = tokenizer instanceof Gpt2Tokenizer ? tokenizer.eotId : undefined;
  const ids = [...prompt];
  const write = streamer(tokenizer, (s) => process.stdout.write(s));
  write(ids);
  for await (const id of generate(model, prompt, { ...opts, stopId, slide: true })) {
    ids.push(id);
    write(ids);
  }
  process.stdout.write('\n');
  return 0;
}
