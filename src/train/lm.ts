// Training a GPT language model (Radford et al. 2018 §3.1, eq. 1: maximise sum_i log P(u_i | u_{i-k}..u_{i-1})) on
// a text corpus: random windows of maxLen tokens (nanoGPT's get_batch), AdamW with warmup and cosine decay, clipped
// gradients, validation loss on fixed random windows of the last 10% of the text, a sample at each evaluation,
// atomic checkpoints with a bit-exact resume, a JSONL log and an HTML page of curves.

import { appendFileSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CharTokenizer } from '../data/chars.js';
import { readText } from '../data/files.js';
import { generate } from '../decode/generate.js';
import { readGptDirConfig, saveGptDir, tokenizerOf, type LmTokenizer, type TokenizerSpec } from '../io/gpt-dir.js';
import { Gpt } from '../models/gpt.js';
import { makeGptConfig } from '../models/gpt-config.js';
import { noGrad } from '../tensor/autograd.js';
import { tidy } from '../tensor/memory.js';
import { tensor } from '../tensor/ops/create.js';
import { Rng } from '../tensor/random.js';
import { loadCheckpoint, saveCheckpoint, type LoopState } from './checkpoint.js';
import { curvesWriter } from './curves.js';
import type { LmSettings } from './lm-presets.js';
import { describeNonfinite, NonfiniteGuard, type NonfinitePolicy } from './nonfinite.js';
import { AdamW } from './optim.js';
import { ProgressBar } from './progress.js';
import { loadNewestReadable, removeStaleTemps, truncateLog, type LogRecord } from './resume.js';
import { cosineSchedule } from './schedule.js';
import { guardedUpdate } from './update.js';
import { listCheckpoints } from './translation.js';

/** A run: settings, where to write, and the corpus. */
export interface LmRun extends LmSettings {
  out: string;
  /** The corpus file (plain or gzip). */
  textPath: string;
  resume?: boolean;
  /** Draw a progress bar on stderr (default true). */
  progress?: boolean;
  /** Receives one-line reports (evaluations, samples, checkpoints); default console.error. */
  log?: (line: string) => void;
  onNonfinite?: NonfinitePolicy;
}

/** What a finished run reports. */
export interface LmResult { steps: number; seconds: number; trainLoss: number; valLoss: number; sample: string; out: string; }

/** A batch of `rows` random windows: inputs ids[i .. i+T) and targets ids[i+1 .. i+T], each (rows, T). */
function windows(ids: Int32Array, rows: number, t: number, rng: Rng): { x: Int32Array; y: Int32Array } {
  if (ids.length <= t) throw new Error(`train-lm: a split of ${ids.length} tokens is too short for windows of ${t} + 1`);
  const x = new Int32Array(rows * t);
  const y = new Int32Array(rows * t);
  for (let r = 0; r < rows; r++) {
    const at = Math.floor(rng.uniform() * (ids.length - t));
    x.set(ids.subarray(at, at + t), r * t);
    y.set(ids.subarray(at + 1, at + t + 1), r * t);
  }
  return { x, y };
}

/** Every non-overlapping window of a split, in batches of up to `rows` (evaluation on the whole validation text). */
function wholeSplit(ids: Int32Array, rows: number, t: number): Array<{ x: Int32Array; y: Int32Array }> {
  const count = Math.floor((ids.length - 1) / t);
  const out: Array<{ x: Int32Array; y: Int32Array }> = [];
  for (let first = 0; first < count; first += rows) {
    const n = Math.min(rows, count - first);
    out.push({ x: ids.slice(first * t, (first + n) * t), y: ids.slice(first * t + 1, (first + n) * t + 1) });
  }
  return out;
}

/** The batch of update `step` (its own generator, so a resumed run draws the same batches). */
function batchOf(ids: Int32Array, run: LmRun, t: number, step: number): { x: Int32Array; y: Int32Array } {
  return windows(ids, run.batchSize, t, new Rng((run.seed * 1_000_003 + step) >>> 0));
}

/** Mean next-token loss of the model over batches, in eval mode. */
async function evaluate(model: Gpt, batches: ReadonlyArray<{ x: Int32Array; y: Int32Array }>): Promise<number> {
  const wasTraining = model.training;
  model.eval();
  let total = 0;
  let windowsSeen = 0;
  try {
    for (const b of batches) {
      const rows = b.x.length / model.config.maxLen;
      const loss = tidy(() => noGrad(() => model.loss(tensor(b.x, [rows, model.config.maxLen], 'int32'), tensor(b.y, [rows, model.config.maxLen], 'int32'))));
      total += (await loss.itemAsync()) * rows;
      windowsSeen += rows;
      loss.dispose();
    }
  } finally { model.train(wasTraining); }
  return total / windowsSeen;
}

/** Text sampled after a newline (characters) or <|endoftext|> (GPT-2): nanoGPT's temperature 0.8, top-k 200, context cropped. */
async function sample(model: Gpt, tokenizer: LmTokenizer, tokens: number, seed: number): Promise<string> {
  if (tokens === 0) return '';
  const start = tokenizer instanceof CharTokenizer ? tokenizer.encode('\n') : [tokenizer.eotId];
  const ids: number[] = [];
  for await (const id of generate(model, start, { maxNewTokens: tokens, temperature: 0.8, topK: 200, rng: new Rng(seed), slide: true })) ids.push(id);
  return tokenizer.decode(ids);
}

/** Trains a GPT into run.out; resumes from the newest checkpoint there when run.resume. */
export async function trainLm(run: LmRun): Promise<LmResult> {
  const log = run.log ?? ((line: string) => console.error(line));
  const ckptDir = join(run.out, 'checkpoints');
  const logPath = join(run.out, 'train-log.jsonl');
  const begun = existsSync(ckptDir);
  mkdirSync(ckptDir, { recursive: true });
  for (const dir of [run.out, ckptDir]) for (const f of removeStaleTemps(dir)) log(`removed ${join(dir, f)}, left by an interrupted write`);
  const checkpoints = run.resume ? listCheckpoints(ckptDir) : [];
  if (run.resume && checkpoints.length === 0 && !begun) throw new Error(`train-lm --resume: no checkpoint in ${ckptDir}`);
  const resuming = checkpoints.length > 0;

  const text = await readText(run.textPath);
  const dirConfig = resuming ? readGptDirConfig(run.out) : null;
  if (dirConfig === null && existsSync(logPath)) unlinkSync(logPath);
  const spec: TokenizerSpec = dirConfig?.tokenizer ?? (run.tokenizer === 'char' ? { type: 'char', chars: CharTokenizer.fromText(text).chars } : { type: 'gpt2' });
  const tokenizer = await tokenizerOf(spec);
  const model = new Gpt(dirConfig?.model ?? makeGptConfig(run.modelPreset, { ...run.model, vocabSize: tokenizer.vocabSize, seed: run.seed }));
  const ids = Int32Array.from(tokenizer.encode(text));
  const split = Math.floor(ids.length * 0.9); // nanoGPT: the first 90% train, the rest validation
  const [trainIds, valIds] = [ids.subarray(0, split), ids.subarray(split)];
  const t = model.config.maxLen;
  const valRng = new Rng(run.seed ^ 0x5eed);
  const valBatches = run.evalBatches > 0 ? Array.from({ length: run.evalBatches }, () => windows(valIds, run.batchSize, t, valRng)) : wholeSplit(valIds, run.batchSize, t);
  const optimizer = new AdamW(model.parameters(), {
    lr: cosineSchedule({ lr: run.lr, minLr: run.minLr, warmup: run.warmup, decaySteps: run.lrDecaySteps || run.maxSteps }), betas: [0.9, run.beta2], eps: 1e-8,
    weightDecay: run.weightDecay, decays: (p) => p.rank >= 2, // nanoGPT: matrices and embeddings decay, gains and biases do not
  });
  let loop: LoopState = { step: 0, epoch: 0, batchInEpoch: 0, rng: model.rng.state(), tokens: 0, seconds: 0 };
  if (resuming) {
    const resumed = loadNewestReadable(checkpoints, (path) => loadCheckpoint(path, model, optimizer), log);
    loop = resumed.state;
    model.rng.setState(loop.rng);
    log(`resumed from ${resumed.path} at step ${loop.step}`);
  }
  const settings = { ...run, log: undefined } as unknown as Record<string, unknown>;
  await saveGptDir(run.out, model, spec, settings);
  const history = truncateLog(logPath, loop.step);
  const writeCurves = curvesWriter(run.out, { title: 'aiayn language model', smoothOver: 50, second: { key: 'lr', name: 'learning rate', chart: 'learning rate' } }, log);
  const writeLog = (rec: LogRecord) => { appendFileSync(logPath, JSON.stringify(rec) + '\n'); history.push(rec); };
  const timeLimit = run.maxMinutes > 0 ? run.maxMinutes * 60 - loop.seconds : undefined;
  const bar = run.progress === false ? null : new ProgressBar({ total: run.maxSteps, label: 'train-lm', unit: 'tok', timeLimit, startAt: loop.step });
  const started = performance.now();
  const secondsBefore = loop.seconds;
  const elapsed = () => secondsBefore + (performance.now() - started) / 1000;
  let lastLoss = NaN;
  let valLoss = NaN;
  let lastSample = '';
  const evaluateNow = async () => {
    valLoss = await evaluate(model, valBatches);
    lastSample = await sample(model, tokenizer, run.sampleTokens, run.seed + loop.step);
    writeLog({ step: loop.step, val_loss: valLoss, seconds: elapsed(), sample: lastSample });
    log(`step ${loop.step}: val loss ${valLoss.toFixed(4)} (${elapsed().toFixed(1)} s)${lastSample === '' ? '' : `; sample:\n${lastSample}\n`}`);
    await writeCurves(history);
  };
  const checkpoint = async () => {
    loop.rng = model.rng.state();
    loop.seconds = elapsed();
    await saveCheckpoint(join(ckptDir, `ckpt-${loop.step}.safetensors`), model, optimizer, loop);
    for (const old of listCheckpoints(ckptDir).slice(0, -run.keepCheckpoints)) unlinkSync(old);
    await saveGptDir(run.out, model, spec, settings);
  };

  if (!resuming) await evaluateNow();
  const guard = new NonfiniteGuard({ policy: run.onNonfinite });
  const named = model.namedParameters();
  while (loop.step < run.maxSteps) {
    const { x, y } = batchOf(trainIds, run, t, loop.step);
    const lr = optimizer.lr;
    const loss = tidy(() => {
      const l = model.loss(tensor(x, [run.batchSize, t], 'int32'), tensor(y, [run.batchSize, t], 'int32'));
      l.backward();
      return l;
    });
    const stepLoss = await loss.itemAsync();
    loss.dispose();
    const { gradNorm, verdict } = await guardedUpdate(stepLoss, optimizer, guard, named, run.clipNorm);
    loop.step++;
    loop.tokens += x.length;
    if (!verdict.ok) {
      const what = describeNonfinite(loop.step, stepLoss, gradNorm, verdict.firstBadGradient);
      writeLog({ step: loop.step, skipped: what, seconds: elapsed() });
      if (verdict.stop) { bar?.done(); throw new Error(`train-lm: stopped after ${verdict.inARow} non-finite steps in a row; ${what}`); }
      log(`${what}; update skipped`);
    } else {
      lastLoss = stepLoss;
      writeLog({ step: loop.step, loss: lastLoss, lr, tokens: loop.tokens, seconds: elapsed() });
    }
    bar?.tick(loop.step, x.length, { loss: lastLoss, lr });
    const last = loop.step >= run.maxSteps || (run.maxMinutes > 0 && elapsed() > run.maxMinutes * 60);
    if (loop.step % run.evalEvery === 0 || last) await evaluateNow();
    if (loop.step % run.checkpointEvery === 0 || last) await checkpoint();
    if (last) break;
  }
  bar?.done();
  return { steps: loop.step, seconds: elapsed(), trainLoss: lastLoss, valLoss, sample: lastSample, out: run.out };
}
