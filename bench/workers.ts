// What the benchmark harnesses share: the Transformer configs they time, the worker processes that answer one
// JSON line per command (bench/ours-step.ts, bench/torch_step.py), the allocator settings both get, and medians.

import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import type { BenchSpec } from './ours-step.js';

/** The three configs of issue 6: model sizes and batch shapes (sequences x source/target tokens). */
export const SPECS: Record<string, BenchSpec> = {
  tiny: { name: 'tiny', d: 128, h: 4, ff: 512, enc: 2, dec: 2, vocab: 8000, batch: 64, src: 24, tgt: 24, newTokens: 32 },
  small: { name: 'small', d: 256, h: 4, ff: 1024, enc: 3, dec: 3, vocab: 8000, batch: 64, src: 32, tgt: 32, newTokens: 32 },
  base: { name: 'base', d: 512, h: 8, ff: 2048, enc: 6, dec: 6, vocab: 16000, batch: 32, src: 32, tgt: 32, newTokens: 32 },
};

/** A worker process answering one JSON line per command. */
export class Worker {
  private readonly lines: Interface;
  private readonly pending: Array<(line: string) => void> = [];
  private readonly queued: string[] = [];
  private stderr = '';
  private exited = false;

  constructor(readonly name: string, private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => {
      const waiter = this.pending.shift();
      if (waiter) waiter(line); else this.queued.push(line);
    });
    child.stderr.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    child.on('exit', () => {
      this.exited = true;
      for (const w of this.pending.splice(0)) w('');
    });
  }

  /** The next JSON line (the ready line, or the answer to a command). */
  async next(): Promise<Record<string, unknown>> {
    const line = this.queued.shift() ?? (this.exited ? '' : await new Promise<string>((res) => this.pending.push(res)));
    if (line === '') throw new Error(`${this.name} worker exited; its stderr ends:\n${this.stderr}`);
    const msg = JSON.parse(line) as Record<string, unknown>;
    if (typeof msg['error'] === 'string') throw new Error(`${this.name} worker: ${msg['error']}`);
    return msg;
  }

  /** Sends a command and waits for its answer. */
  async ask(command: string): Promise<Record<string, unknown>> {
    this.child.stdin.write(command + '\n');
    return this.next();
  }

  /** Asks the worker to quit. */
  close(): void {
    if (!this.exited) this.child.stdin.end('quit\n');
  }
}

/**
 * glibc malloc settings for both workers: never hand big blocks to mmap and never trim the heap. By default
 * glibc maps every block above 32 MiB (e.g. PyTorch's logits and their gradients) afresh and unmaps it on free,
 * so each step pays page faults for zeroed pages again; on this VM that alone made PyTorch's tiny step 3.4x slower
 * (640 vs 188 ms). Explicit settings in the caller's environment win.
 */
export function allocatorEnv(): NodeJS.ProcessEnv {
  return { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(2 ** 36), ...process.env };
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Analytic FLOPs of one training step (forward x 3): 2 per multiply-add of every weight matmul per token
 * (encoder: 4d^2 + 2 d ff per source token; decoder: 6d^2 + 2 d ff per target token plus 2d^2 per source token
 * for the cross-attention keys/values; generator d V per target token), plus Q K^T and A V of every attention
 * (2 L_q L_k d multiply-adds per sequence, causal half included since both sides compute it).
 */
export function trainingFlops(s: Pick<BenchSpec, 'd' | 'ff' | 'enc' | 'dec' | 'vocab' | 'batch' | 'src' | 'tgt'>): number {
  const { d, ff, enc, dec, vocab, batch: b, src: S, tgt: T } = s;
  const encMacs = enc * (S * (4 * d * d + 2 * d * ff) + 2 * S * S * d);
  const decMacs = dec * (T * (6 * d * d + 2 * d * ff) + S * 2 * d * d + 2 * T * T * d + 2 * T * S * d);
  const generatorMacs = T * d * vocab;
  return 3 * 2 * b * (encMacs + decMacs + generatorMacs);
}
