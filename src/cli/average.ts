// `aiayn average`: the mean of the weights of several checkpoints (§6.1: the last 5 or 20 checkpoints).

import { saveSafetensors, type SafetensorsInput } from '../io/safetensors.js';
import { averageCheckpoints } from '../train/checkpoint.js';
import { CliError, getFlag, getString, parseArgs } from './args.js';

const HELP = `usage: aiayn average CKPT.safetensors... -o OUT.safetensors

Writes the elementwise mean of the checkpoints' model weights. Use it with
'aiayn translate --model DIR --weights OUT.safetensors' or copy it over DIR/weights.safetensors.`;

/** Runs `aiayn average`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['help'], aliases: { '-o': 'out', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const out = getString(args, 'out');
  if (out === undefined) throw new CliError('-o OUT.safetensors is required');
  if (args.positionals.length === 0) throw new CliError('give at least one checkpoint');
  let averaged;
  try {
    averaged = averageCheckpoints(args.positionals);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [name, t] of averaged) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  saveSafetensors(out, tensors, { format: 'aiayn', averaged: String(args.positionals.length) });
  console.log(`averaged ${args.positionals.length} checkpoints into ${out}`);
  return 0;
}
