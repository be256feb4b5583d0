// Kills `aiayn train --preset demo` with SIGKILL at random moments (some of them while a checkpoint is being
// written) and resumes it with --resume each time, then checks that (1) after every kill each file in the output
// directory is one --resume can read (or a temporary file it removes), and (2) the final weights and the log's
// losses are bit-identical to one uninterrupted run with the same seed and steps.
//
//   node --import tsx scripts/kill-resume.ts [--kills 20] [--seed 1] [--steps 60] [--pairs 3000] [--small] [--keep DIR]
// (npm run kill-resume -- --kills 20). The short form runs in test/kill-resume.test.ts.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bpe } from '../src/data/bpe.js';
import { readMulti30k } from '../src/data/corpora.js';
import { readModelConfig } from '../src/io/model-dir.js';
import { loadSafetensors } from '../src/io/safetensors.js';
import { Rng } from '../src/tensor/random.js';

/** What to run. */
export interface KillResumeOptions {
  kills: number;
  seed: number;
  /** Training steps of the run (checkpoints every steps/6, at least 2). */
  steps: number;
  /** Multi30k training pairs used (fewer: faster start-up). */
  pairs: number;
  /** Settings overriding the demo preset (`aiayn train --config`), e.g. a smaller model. */
  config?: Record<string, unknown>;
  /** Where to work (default a fresh temporary directory, removed at the end). */
  dir?: string;
  /** One line per event. */
  log?: (line: string) => void;
}

/** What was found. */
export interface KillResumeReport {
  kills: number;
  /** Kills after which a checkpoint's temporary file was left behind (the kill landed mid-write). */
  killsDuringCheckpointWrite: number;
  /** Kills after which the log ended in a torn line. */
  tornLogLines: number;
  /** Files that --resume could not read, after any kill (must be empty). */
  unreadable: string[];
  /** The newest checkpoint step after each kill. */
  stepsAtKills: number[];
  weightsIdentical: boolean;
  lossesIdentical: boolean;
  /** Log records compared (train losses and validation records). */
  lossRecords: number;
  seconds: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
const CKPT = /^ckpt-(\d+)\.safetensors$/;
/** Settings for a quick form: a 2-layer model of width 32 and a 600-token vocabulary. */
export const SMALL = { vocabSize: 600, batchTokens: 512, model: { dModel: 32, dFF: 64, h: 2, encoderLayers: 1, decoderLayers: 1, maxLen: 64 } };

/** Starts `aiayn train`; resolves to its exit code and signal. */
function train(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: string | null; err: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', SCRIPT, 'train', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { err = (err + s).slice(-4000); });
  return { child, done: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, err }))) };
}

/** Checks every file a resume reads; returns the unreadable ones and what the kill left behind. */
function inspect(out: string): { unreadable: string[]; checkpointTemp: boolean; tornLog: boolean; newest: number } {
  const unreadable: string[] = [];
  const attempt = (path: string, read: () => unknown) => { try { read(); } catch (err) { unreadable.push(`${path}: ${(err as Error).message}`); } };
  const ckptDir = join(out, 'checkpoints');
  const names = existsSync(ckptDir) ? readdirSync(ckptDir) : [];
  let newest = 0;
  for (const name of names.filter((n) => CKPT.test(n))) {
    newest = Math.max(newest, Number(CKPT.exec(name)![1]));
    attempt(join(ckptDir, name), () => { if (loadSafetensors(join(ckptDir, name)).metadata.get('format') !== 'aiayn-checkpoint') throw new Error('no checkpoint metadata'); });
  }
  if (newest > 0) {
    attempt(join(out, 'config.json'), () => readModelConfig(out));
    attempt(join(out, 'tokenizer.json'), () => Bpe.fromJSON(JSON.parse(readFileSync(join(out, 'tokenizer.json'), 'utf8')), 'tokenizer.json'));
    attempt(join(out, 'weights.safetensors'), () => loadSafetensors(join(out, 'weights.safetensors')));
  }
  const logPath = join(out, 'train-log.jsonl');
  const log = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
  const tornLog = log.length > 0 && !log.endsWith('\n');
  const lines = log.split('\n').filter((l) => l !== '');
  lines.slice(0, tornLog ? -1 : undefined).forEach((l, i) => attempt(`${logPath}:${i + 1}`, () => JSON.parse(l)));
  return { unreadable, checkpointTemp: names.some((n) => n.startsWith('.ckpt-') && n.endsWith('.tmp')), tornLog, newest };
}

/** When to kill: a time into start-up, a step of training reached in the log (plus a delay), or a checkpoint write begun. */
type Moment = { kind: 'start-up'; ms: number } | { kind: 'training'; step: number; ms: number } | { kind: 'checkpoint' };

/** The step of the last complete record of a run's log (0 when none). */
function loggedStep(out: string): number {
  const path = join(out, 'train-log.jsonl');
  if (!existsSync(path)) return 0;
  const lines = readFileSync(path, 'utf8').split('\n');
  const last = lines.at(-2); // the last line ending in a newline
  return last === undefined ? 0 : (JSON.parse(last) as { step: number }).step;
}

/** Resolves at the moment (watching the run's files, not the clock, so a busy machine does not shift it); `stop` cancels. */
function killMoment(out: string, m: Moment, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined;
    let timer: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      const ckptDir = join(out, 'checkpoints');
      if (m.kind === 'checkpoint' && watcher === undefined && existsSync(ckptDir)) {
        watcher = watch(ckptDir, (_event, name) => { if (name?.startsWith('.ckpt-')) finish(); });
      }
      if (m.kind === 'training' && timer === undefined && loggedStep(out) >= m.step) timer = setTimeout(finish, m.ms);
    }, 5);
    const finish = () => { watcher?.close(); clearInterval(poll); clearTimeout(timer); resolve(); };
    if (m.kind === 'start-up') timer = setTimeout(finish, m.ms);
    stop.addEventListener('abort', finish);
  });
}

/** The (step, loss, lr) and (step, val_loss, val_bleu) records of a log. */
function losses(out: string): string[] {
  return readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const r = JSON.parse(l) as Record<string, unknown>;
    return JSON.stringify([r['step'], r['loss'], r['lr'], r['val_loss'], r['val_bleu'], r['skipped']]);
  });
}

/** Runs the experiment. */
export async function killResume(options: KillResumeOptions): Promise<KillResumeReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'aiayn-kill-resume-'));
  const pairs = (await readMulti30k('train', 'de', 'en')).slice(0, options.pairs);
  const val = (await readMulti30k('val', 'de', 'en')).slice(0, 50);
  for (const [name, set] of [['train', pairs], ['val', val]] as const) {
    writeFileSync(join(dir, `${name}.de`), set.map((p) => p.src + '\n').join(''));
    writeFileSync(join(dir, `${name}.en`), set.map((p) => p.tgt + '\n').join(''));
  }
  const every = Math.max(2, Math.floor(options.steps / 6));
  const flags = (out: string) => [
    '--preset', 'demo', '--out', out, '--quiet', '--seed', String(options.seed), '--max-steps', String(options.steps), '--max-minutes', '0',
    '--checkpoint-every', String(every), '--eval-every', String(2 * every), '--bleu-sentences', '10',
    '--train-src', join(dir, 'train.de'), '--train-tgt', join(dir, 'train.en'), '--val-src', join(dir, 'val.de'), '--val-tgt', join(dir, 'val.en'),
    ...(options.config === undefined ? [] : ['--config', join(dir, 'settings.json')]),
  ];
  if (options.config !== undefined) writeFileSync(join(dir, 'settings.json'), JSON.stringify(options.config));

  const straight = join(dir, 'straight');
  const t0 = performance.now();
  const straightRun = train(flags(straight));
  let startMs = 0; // when the log appears: start-up (data, BPE) is over and training begins
  const poll = setInterval(() => { if (startMs === 0 && existsSync(join(straight, 'train-log.jsonl'))) startMs = performance.now() - t0; }, 5);
  const ref = await straightRun.done;
  clearInterval(poll);
  if (ref.code !== 0) throw new Error(`the uninterrupted run failed (${ref.code}): ${ref.err}`);
  const runMs = performance.now() - t0;
  const stepMs = (runMs - startMs) / options.steps;
  log(`uninterrupted run: ${options.steps} steps in ${(runMs / 1000).toFixed(1)} s, ${(startMs / 1000).toFixed(1)} s of them start-up`);

  const out = join(dir, 'killed');
  const rng = new Rng(options.seed);
  const report: KillResumeReport = {
    kills: 0, killsDuringCheckpointWrite: 0, tornLogLines: 0, unreadable: [], stepsAtKills: [], weightsIdentical: false, lossesIdentical: false, lossRecords: 0, seconds: 0,
  };
  let newest = 0;
  for (let k = 0; report.kills < options.kills && k < 3 * options.kills; k++) {
    // Every third kill waits for a checkpoint write to begin; every fourth lands in start-up; the rest at a random
    // step of the next two checkpoint intervals (so that the kills spread over the run), up to one step's time after it.
    const moment: Moment = k % 3 === 1 ? { kind: 'checkpoint' } : k % 4 === 3 ? { kind: 'start-up', ms: rng.uniform() * startMs }
      : { kind: 'training', step: newest + rng.int(Math.min(options.steps - newest, 2 * every)), ms: rng.uniform() * stepMs };
    const run = train([...flags(out), ...(k > 0 ? ['--resume'] : [])]);
    const exited = run.done.then(() => true);
    const stop = new AbortController();
    const due = killMoment(out, moment, stop.signal).then(() => false);
    const finished = await Promise.race([exited, due]);
    stop.abort();
    if (finished) {
      const r = await run.done;
      if (r.code !== 0) throw new Error(`run ${k} failed (${r.code}): ${r.err}`);
      log(`try ${k + 1}: the run finished before its moment`);
      continue;
    }
    run.child.kill('SIGKILL');
    const r = await run.done;
    if (r.signal !== 'SIGKILL') { if (r.code !== 0) throw new Error(`run ${k} failed (${r.code}): ${r.err}`); continue; }
    report.kills++;
    const seen = inspect(out);
    report.unreadable.push(...seen.unreadable);
    if (seen.checkpointTemp) report.killsDuringCheckpointWrite++;
    if (seen.tornLog) report.tornLogLines++;
    report.stepsAtKills.push(seen.newest);
    newest = seen.newest;
    log(`kill ${report.kills} (${moment.kind === 'training' ? `after step ${moment.step}` : moment.kind}): newest checkpoint step ${seen.newest}${seen.checkpointTemp ? ', checkpoint temp left' : ''}${seen.tornLog ? ', torn log line' : ''}${seen.unreadable.length > 0 ? `, UNREADABLE: ${seen.unreadable.join('; ')}` : ''}`);
  }
  const last = await train([...flags(out), '--resume']).done;
  if (last.code !== 0) throw new Error(`the final resume failed (${last.code}): ${last.err}`);
  report.weightsIdentical = readFileSync(join(out, 'weights.safetensors')).equals(readFileSync(join(straight, 'weights.safetensors')));
  const [a, b] = [losses(straight), losses(out)];
  report.lossesIdentical = JSON.stringify(a) === JSON.stringify(b);
  report.lossRecords = a.length;
  report.seconds = (performance.now() - started) / 1000;
  if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  return report;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? fallback : Number(process.argv[i + 1]);
  };
  const keep = process.argv.indexOf('--keep');
  const small = process.argv.includes('--small'); // the test's model and vocabulary, for a quick look
  const report = await killResume({
    kills: arg('kills', 20), seed: arg('seed', 1), steps: arg('steps', 60), pairs: arg('pairs', 3000),
    dir: keep < 0 ? undefined : process.argv[keep + 1], log: (line) => console.log(line), config: small ? SMALL : undefined,
  });
  console.log(JSON.stringify(report, null, 2));
  process.exitCode = report.unreadable.length === 0 && report.weightsIdentical && report.lossesIdentical ? 0 : 1;
}
