// `npm run bench:vs-torch -- --model gpt2`: GPT-2 124M (12 layers, 12 heads, 768 dims, vocabulary 50,257) with random
// weights, ours (bench/gpt2-ours.ts) against PyTorch (bench/gpt2_torch.py, nanoGPT-style, same shapes): training
// tokens/s (issue 19's goal: >= 1.5x) and greedy generation of 128 tokens after a 64-token prompt at batch 1 with a
// KV cache on both sides (goal: >= 2x). The two run one after the other, each in its own process.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Shapes and repetitions of one run. */
export interface Gpt2Spec { batch: number; context: number; warmup: number; steps: number; prompt: number; newTokens: number; }

/** What one side reports. */
interface Side { ms_per_step: number; tokens_per_s: number; generate_ms: number; new_tokens: number; rss_mb: number; }

/** Runs a side's script; its last stdout line is its JSON report. */
function runSide(command: string, args: string[], env: NodeJS.ProcessEnv, name: string): Side {
  const r = spawnSync(command, args, { cwd: join(HERE, '..'), env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${name} failed (${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Side;
}

/** Benchmarks both sides (torch when torchEnv is given) and prints a table, or JSON; training 8 x 128 tokens unless told. */
export function benchGpt2(opts: { threads: number; json: boolean; python: string; torchEnv: NodeJS.ProcessEnv | null; log: (s: string) => void;
  batch?: number | undefined; context?: number | undefined; }): void {
  const spec: Gpt2Spec = { batch: opts.batch ?? 8, context: opts.context ?? 128, warmup: 2, steps: 6, prompt: 64, newTokens: 128 };
  opts.log(`gpt2 124M: training ${spec.batch} x ${spec.context} tokens a step, generation of ${spec.newTokens} tokens after ${spec.prompt}, ${opts.threads} threads`);
  const ours = runSide(process.execPath, ['--import', 'tsx', join(HERE, 'gpt2-ours.ts'), JSON.stringify(spec)],
    { ...process.env, AIAYN_THREADS: String(opts.threads) }, 'ours');
  const torch = opts.torchEnv === null ? null : runSide(opts.python, [join(HERE, 'gpt2_torch.py'), JSON.stringify(spec)], opts.torchEnv, 'torch');
  const ratio = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined ? null : a / b);
  const result = {
    model: 'gpt2', threads: opts.threads, ...spec, ours, torch,
    training_speedup: ratio(ours.tokens_per_s, torch?.tokens_per_s), generation_speedup: ratio(torch?.generate_ms, ours.generate_ms),
  };
  if (opts.json) { console.log(JSON.stringify(result)); return; }
  const f = (x: number | null | undefined, d = 1): string => (x === null || x === undefined ? '-' : x.toFixed(d));
  console.log([
    'side   train tokens/s  ms/step  generate ms/token  peak RSS MB',
    `ours   ${f(ours.tokens_per_s, 0).padStart(14)}  ${f(ours.ms_per_step).padStart(7)}  ${f(ours.generate_ms / ours.new_tokens, 2).padStart(17)}  ${f(ours.rss_mb, 0).padStart(11)}`,
    `torch  ${f(torch?.tokens_per_s, 0).padStart(14)}  ${f(torch?.ms_per_step).padStart(7)}  ${f(torch === null ? null : torch.generate_ms / torch.new_tokens, 2).padStart(17)}  ${f(torch?.rss_mb, 0).padStart(11)}`,
    `ours/torch: training ${f(result.training_speedup, 3)}x, generation ${f(result.generation_speedup, 3)}x`,
  ].join('\n'));
}
