// The `aiayn` command line: one file per command, loaded on demand so `aiayn bleu` never loads tensors.
import { CliError } from './args.js';

/** A command module exports `run(argv)` that resolves to an exit code. */
interface CommandModule { run(argv: string[]): Promise<number>; }

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  demo: { summary: 'train a small De->En model on bundled Multi30k for a few minutes, translate, score', load: () => import('./demo.js') },
  train: { summary: 'train a translation model (presets, checkpoints, --resume)', load: () => import('./train.js') },
  translate: { summary: 'translate stdin with a model (greedy, beam, sampling)', load: () => import('./translate.js') },
  eval: { summary: 'translate a test set and score it (BLEU, chrF)', load: () => import('./eval.js') },
  average: { summary: 'average checkpoints (paper section 6.1)', load: () => import('./average.js') },
  convert: { summary: 'convert weights from/to the PyTorch translation-tutorial state dict', load: () => import('./convert.js') },
  bleu: { summary: 'score hypotheses like sacreBLEU 2.6.0 (BLEU, chrF, TER)', load: () => import('./bleu.js') },
  bpe: { summary: 'learn, apply and undo BPE (also GPT-2 byte-level BPE)', load: () => import('./bpe.js') },
  bench: { summary: 'benchmarks (bench gemm)', load: () => import('./bench.js') },
  attention: { summary: 'draw every layer and head of attention for a sentence (HTML or PNG)', load: () => import('./attention.js') },
  serve: { summary: 'serve the web page and a JSON API (translate, attention) for a model', load: () => import('./serve.js') },
  'train-lm': { summary: 'train a GPT language model (shakespeare-char: nanoGPT\'s CPU recipe; --resume)', load: () => import('./train-lm.js') },
  generate: { summary: 'continue a prompt with a GPT model (aiayn or Hugging Face GPT-2 directory), streaming', load: () => import('./generate.js') },
  export: { summary: 'export a model to ONNX (encoder, decoder, decoder with past) for onnxruntime', load: () => import('./export.js') },
  'train-mlm': { summary: 'pretrain a BERT / RoBERTa by masked language modelling (checkpoints, --resume)', load: () => import('./train-mlm.js') },
  finetune: { summary: 'fine-tune a BERT / RoBERTa sequence classifier on label<TAB>text files', load: () => import('./finetune.js') },
  classify: { summary: 'label stdin lines with a fine-tuned classifier (labels and probabilities)', load: () => import('./classify.js') },
  experiment: { summary: 'experiments from the paper (experiment complexity: Table 1)', load: () => import('./experiment.js') },
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
    if (process.env['AIAYN_BACKEND'] === 'webgpu') await (await import('../backend/index.js')).useWantedBackend(); // starts the GPU, or says why not
    return await (await command.load()).run(rest);
  } catch (err) {
    if (err instanceof CliError) {
      console.error(`aiayn ${name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
