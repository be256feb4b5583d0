// `aiayn export onnx`: writes a model directory as ONNX graphs for onnxruntime and other ONNX runtimes: a translation
// model as encoder, first decoder step and decoder step with past keys and values; a GPT (aiayn's or a Hugging Face
// GPT-2 directory) as decoder and decoder with past; with their config.json and the tokenizer.

import { exportOnnx } from '../io/onnx/export.js';
import { CliError, getFlag, getString, parseArgs } from './args.js';

const HELP = `usage: aiayn export onnx --model MODEL_DIR -o OUT_DIR [--force]

Writes ONNX graphs (opset 17, dynamic batch and sequence axes), config.json (the inputs and outputs of each graph)
and the tokenizer into OUT_DIR. A translation model gives encoder_model.onnx, decoder_model.onnx and
decoder_with_past_model.onnx; a GPT (aiayn train-lm directory or Hugging Face GPT-2 directory) gives
decoder_model.onnx and decoder_with_past_model.onnx. An existing non-empty OUT_DIR is refused unless --force is
given.`;

/** Runs `aiayn export`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['help', 'force'], aliases: { '-o': 'out', '-h': 'help' } });
  if (getFlag(args, 'help')) { console.log(HELP); return 0; }
  const [format, ...extra] = args.positionals;
  if (format !== 'onnx') throw new CliError(format === undefined ? `name a format: ${HELP}` : `unknown export format '${format}' (known: onnx)`);
  if (extra.length > 0) throw new CliError(`unexpected argument '${extra[0]}'`);
  const model = getString(args, 'model');
  const out = getString(args, 'out');
  if (model === undefined) throw new CliError('--model MODEL_DIR is required');
  if (out === undefined) throw new CliError('-o OUT_DIR is required');
  let written;
  try {
    written = await exportOnnx(model, out, { force: getFlag(args, 'force') });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  for (const { file, inputs, outputs } of Object.values(written.graphs)) {
    console.log(`${out}/${file}: ${inputs.length} inputs (${inputs.map((i) => i.name).slice(0, 3).join(', ')}${inputs.length > 3 ? ', ...' : ''}), ${outputs.length} outputs`);
  }
  console.log(`exported ${model} to ONNX (opset ${written.opset}) in ${out}`);
  return 0;
}
