// The training loop of BERT-style models (Devlin et al. 2019, Appendix A.2; RoBERTa, Liu et al. 2019): AdamW
// (beta2 0.999, eps 1e-6, decoupled weight decay 0.01 on every parameter, where BERT exempts biases and
// LayerNorms) with linear warmup and linear decay, for pretraining (MLM) and fine-tuning (classification)
// alike; the task supplies the batches' losses and the validation metrics. Progress bar, JSONL log, curves,
// atomic checkpoints and a bit-exact --resume reuse the pieces of the translation trainer.

import { appendFileSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/files.js';
import type { EncoderTokenizer } from '../data/encoder-tokenizer.js';
import { saveHfBert } from '../io/hf-bert.js';
import type { Bert } from '../models/bert.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadCheckpoint, saveCheckpoint, type LoopState } from './checkpoint.js';
import { describeNonfinite, NonfiniteGuard } from './nonfinite.js';
import { curvesWriter } from './curves.js';
import { AdamW } from './optim.js';
import { ProgressBar } from './progress.js';
import { loadNewestReadable, removeStaleTemps, truncateLog, type LogRecord } from './resume.js';
import { linearWarmupDecay } from './schedule.js';
import { guardedUpdate } from './update.js';
import { listCheckpoints } from './translation.js';

/** What is trained: the batches' losses and the validation metrics. */
export interface EncoderTask {
  batchesPerEpoch: number;
  /** The loss of batch `index` of `epoch` in training mode (called inside tidy) and its size in units (tokens, examples). */
  loss(epoch: number, index: number): { loss: Tensor; units: number };
  /** Validation metrics, the model in eval mode: val_loss and val_acc. */
  evaluate(): Promise<{ val_loss: number; val_acc: number }>;
}

/** A run: the model and its tokenizer and labels, the task, the settings and where to write. */
export interface EncoderRun {
  out: string;
  title: string;
  model: Bert;
  tokenizer: EncoderTokenizer;
  labels: readonly string[];
  task: EncoderTask;
  resume: boolean;
  maxSteps: number;
  maxMinutes: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  clipNorm: number;
  evalEvery: number;
  checkpointEvery: number;
  keepCheckpoints: number;
  progress?: boolean;
  log?: (line: string) => void;
}

/** What a finished run reports. */
export interface EncoderResult { steps: number; seconds: number; trainLoss: number; valLoss: number; valAcc: number; }

/** Writes the model directory: HF config.json + model.safetensors, tokenizer.json and tokenizer_config.json. */
export async function saveEncoderDir(out: string, model: Bert, tokenizer: EncoderTokenizer, labels: readonly string[]): Promise<void> {
  await saveHfBert(out, model, labels);
  await writeFileAtomic(join(out, 'tokenizer.json'), tokenizer.toTokenizerJson());
  const c = model.config;
  await writeFileAtomic(join(out, 'tokenizer_config.json'), tokenizer.tokenizerConfig(c.variant === 'roberta' ? c.maxPositions - c.padId - 1 : c.maxPositions));
}

/** Trains run.model on run.task into run.out; resumes from the newest checkpoint there when run.resume. */
export async function trainEncoder(run: EncoderRun): Promise<EncoderResult> {
  const { model, task } = run;
  const log = run.log ?? ((line: string) => console.error(line));
  const ckptDir = join(run.out, 'checkpoints');
  const logPath = join(run.out, 'train-log.jsonl');
  mkdirSync(ckptDir, { recursive: true });
  for (const dir of [run.out, ckptDir]) for (const f of removeStaleTemps(dir)) log(`removed ${join(dir, f)}, left by an interrupted write`);
  const optimizer = new AdamW(model.parameters(), {
    lr: linearWarmupDecay({ peak: run.lr, warmup: run.warmup, total: run.maxSteps }), betas: [0.9, 0.999], eps: 1e-6, weightDecay: run.weightDecay,
  });
  let loop: LoopState = { step: 0, epoch: 0, batchInEpoch: 0, rng: model.rng.state(), tokens: 0, seconds: 0 };
  const checkpoints = run.resume ? listCheckpoints(ckptDir) : [];
  if (checkpoints.length > 0) {
    const resumed = loadNewestReadable(checkpoints, (path) => loadCheckpoint(path, model, optimizer), log);
    loop = resumed.state;
    model.rng.setState(loop.rng);
    log(`resumed from ${resumed.path} at step ${loop.step}`);
  } else if (existsSync(logPath)) {
    unlinkSync(logPath);
  }
  await saveEncoderDir(run.out, model, run.tokenizer, run.labels);
  const history = truncateLog(logPath, loop.step);
  const writeLog = (rec: LogRecord) => { appendFileSync(logPath, JSON.stringify(rec) + '\n'); history.push(rec); };
  const bar = run.progress === false ? null : new ProgressBar({ total: run.maxSteps, label: run.title, timeLimit: run.maxMinutes > 0 ? run.maxMinutes * 60 - loop.seconds : undefined, startAt: loop.step });
  const started = performance.now();
  const before = loop.seconds;
  const elapsed = () => before + (performance.now() - started) / 1000;
  let trainLoss = NaN;
  let metrics = { val_loss: NaN, val_acc: NaN };
  const writeCurves = curvesWriter(run.out, { title: `aiayn ${run.title}`, smoothOver: 20, second: { key: 'val_acc', name: 'val accuracy', chart: 'validation accuracy' } }, log);
  const evaluate = async () => {
    model.eval();
    metrics = await task.evaluate();
    model.train();
    writeLog({ step: loop.step, epoch: loop.epoch, ...metrics, seconds: elapsed() });
    log(`step ${loop.step}: val loss ${metrics.val_loss.toFixed(4)}, val accuracy ${(100 * metrics.val_acc).toFixed(2)}%`);
    await writeCurves(history);
  };
  const checkpoint = async () => {
    loop.rng = model.rng.state();
    loop.seconds = elapsed();
    await saveCheckpoint(join(ckptDir, `ckpt-${loop.step}.safetensors`), model, optimizer, loop);
    for (const old of listCheckpoints(ckptDir).slice(0, -run.keepCheckpoints)) unlinkSync(old);
    await saveEncoderDir(run.out, model, run.tokenizer, run.labels);
  };
  const guard = new NonfiniteGuard();
  const named = model.namedParameters();
  model.train();
  if (loop.step === 0) await evaluate();
  const timeUp = () => run.maxMinutes > 0 && elapsed() > run.maxMinutes * 60;
  while (loop.step < run.maxSteps && !timeUp()) {
    if (loop.batchInEpoch >= task.batchesPerEpoch) { loop.epoch++; loop.batchInEpoch = 0; }
    const lr = optimizer.lr;
    let units = 0;
    const loss = tidy(() => {
      const r = task.loss(loop.epoch, loop.batchInEpoch);
      units = r.units;
      r.loss.backward();
      return r.loss;
    });
    const value = await loss.itemAsync();
    loss.dispose();
    const { gradNorm, verdict } = await guardedUpdate(value, optimizer, guard, named, run.clipNorm);
    if (!verdict.ok) {
      const what = describeNonfinite(loop.step + 1, value, gradNorm, verdict.firstBadGradient);
      if (verdict.stop) throw new Error(`${run.title}: stopped after ${verdict.inARow} non-finite steps in a row; ${what}. The last good checkpoint is ${listCheckpoints(ckptDir).at(-1) ?? 'none'}`);
      log(`${what}; update skipped`);
    }
    loop.step++;
    loop.batchInEpoch++;
    loop.tokens += units;
    trainLoss = value;
    writeLog({ step: loop.step, epoch: loop.epoch, loss: value, lr, seconds: elapsed() });
    bar?.tick(loop.step, units, { loss: value, lr });
    const last = loop.step >= run.maxSteps || timeUp();
    if (loop.step % run.evalEvery === 0 || last) await evaluate();
    if (loop.step % run.checkpointEvery === 0 || last) await checkpoint();
  }
  bar?.done();
  return { steps: loop.step, seconds: elapsed(), trainLoss, valLoss: metrics.val_loss, valAcc: metrics.val_acc };
}
