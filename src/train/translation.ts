// Training a translation Transformer end to end (§5): joint BPE, token-count batches, label-smoothed loss,
// Adam with the warmup schedule, periodic validation (loss and greedy BLEU), atomic checkpoints and a
// bit-exact resume, a JSONL log and an HTML page of curves. Under an MPI launcher every rank trains on its share
// of each global batch and gradients are averaged (docs/distributed.md); only rank 0 writes files and logs.

import { appendFileSync, existsSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Bpe, PAD_ID, BOS_ID, EOS_ID } from '../data/bpe.js';
import { rankShare, TokenBatcher, type Example, type TranslationBatch } from '../data/batching.js';
import { writeFileAtomic, type LinePair } from '../data/files.js';
import { readMulti30k } from '../data/corpora.js';
import { mixSeed } from '../data/random.js';
import { translate } from '../decode/translate.js';
import { corpusBleu } from '../eval/index.js';
import { readModelConfig, saveModelDir } from '../io/model-dir.js';
import { makeConfig } from '../models/config.js';
import { Transformer } from '../models/transformer.js';
import { noGrad } from '../tensor/autograd.js';
import { tidy } from '../tensor/memory.js';
import { tensor } from '../tensor/ops/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadCheckpoint, saveCheckpoint, type LoopState } from './checkpoint.js';
import { openCollective } from './distributed.js';
import { broadcastParameters, GradientBuckets } from './grad-buckets.js';
import { describeNonfinite, NonfiniteGuard, type NonfinitePolicy } from './nonfinite.js';
import { loadNewestReadable, removeStaleTemps, truncateLog, type LogRecord } from './resume.js';
import { curvesWriter, type CurvesSpec } from './curves.js';
import { Adam } from './optim.js';
import type { TrainSettings } from './presets.js';
import { ProgressBar } from './progress.js';
import { noamSchedule } from './schedule.js';
import { guardedUpdate } from './update.js';

/** A run: settings, where to write, and optional data (Multi30k from the package when absent). */
export interface TranslationRun extends TrainSettings {
  out: string;
  resume?: boolean;
  train?: LinePair[];
  val?: LinePair[];
  /** Draw a progress bar on stderr (default true). */
  progress?: boolean;
  /** Receives one-line reports (evaluations, checkpoints); default console.error. */
  log?: (line: string) => void;
  /** A step with a non-finite loss or gradient: skip its update (default) or stop; and how many in a row stop training (default 5). */
  onNonfinite?: NonfinitePolicy;
  maxNonfiniteSkips?: number;
  /** Called with the named parameters after each backward pass, before the step is checked (fault injection in tests). */
  onGradients?: (named: ReadonlyArray<[string, Tensor]>, step: number) => void;
  /** Under an MPI launcher: the size of a gradient bucket, whose all-reduce starts once backward has filled it (default 4 MiB). */
  bucketBytes?: number;
}

/** What a finished run reports. */
export interface TranslationResult { steps: number; seconds: number; trainLoss: number; valLoss: number; valBleu: number | null; out: string; }

/** Encodes line pairs with the tokenizer. */
export function encodeExamples(pairs: readonly LinePair[], tokenizer: Bpe): Example[] {
  return pairs.map((p) => ({ src: Int32Array.from(tokenizer.encode(p.src)), tgt: Int32Array.from(tokenizer.encode(p.tgt)) }));
}

/** Tensors of a batch: src (B, S), tgtIn and tgtOut (B, T), int32. */
function batchTensors(b: TranslationBatch) {
  return {
    src: tensor(b.src, [b.B, b.S], 'int32'),
    tgtIn: tensor(b.tgtIn, [b.B, b.T], 'int32'),
    tgtOut: tensor(b.tgtOut, [b.B, b.T], 'int32'),
  };
}

/** curves.html / curves.png of a translation run: losses, and greedy BLEU on validation sentences. */
const TRANSLATION_CURVES: CurvesSpec = { title: 'aiayn training', smoothOver: 50, second: { key: 'val_bleu', name: 'val BLEU (greedy)', chart: 'validation BLEU' } };

/** Mean label-smoothed loss per target token over a set of batches, in eval mode. */
export async function evaluateLoss(model: Transformer, batches: Iterable<TranslationBatch>, labelSmoothing: number): Promise<number> {
  const wasTraining = model.training;
  model.eval();
  let total = 0;
  let tokens = 0;
  try {
    for (const b of batches) {
      const loss = tidy(() => noGrad(() => {
        const t = batchTensors(b);
        return model.loss(t.src, t.tgtIn, t.tgtOut, { padId: PAD_ID, labelSmoothing });
      }));
      total += (await loss.itemAsync()) * b.tgtTokens;
      loss.dispose();
      tokens += b.tgtTokens;
    }
  } finally {
    model.train(wasTraining);
  }
  return total / Math.max(tokens, 1);
}

/** Checkpoint files in dir, oldest first. */
export function listCheckpoints(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => /^ckpt-\d+\.safetensors$/.test(f))
    .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0])).map((f) => join(dir, f));
}

/** Trains a translation model into run.out; resumes from the newest checkpoint there when run.resume. */
export async function trainTranslation(run: TranslationRun): Promise<TranslationResult> {
  const world = openCollective();
  const lead = world.rank === 0; // the rank that writes files and logs
  const log = lead ? run.log ?? ((line: string) => console.error(line)) : () => {};
  const ckptDir = join(run.out, 'checkpoints');
  const logPath = join(run.out, 'train-log.jsonl');
  const begun = existsSync(ckptDir); // an earlier run made it (and may have been killed before its first checkpoint)
  mkdirSync(ckptDir, { recursive: true });
  const train = run.train ?? await readMulti30k('train', run.srcLang, run.tgtLang);
  const val = run.val ?? await readMulti30k('val', run.srcLang, run.tgtLang);
  if (train.length === 0) throw new Error('train: the training set is empty');

  if (lead) for (const dir of [run.out, ckptDir]) for (const f of removeStaleTemps(dir)) log(`removed ${join(dir, f)}, left by an interrupted write`);
  const checkpoints = run.resume ? listCheckpoints(ckptDir) : [];
  if (run.resume && checkpoints.length === 0 && !begun) throw new Error(`train --resume: no checkpoint in ${ckptDir}`);
  if (run.resume && checkpoints.length === 0) log(`train --resume: no checkpoint in ${ckptDir} yet (the run stopped before its first one); starting over`);
  const resumeFrom = checkpoints.length > 0 ? checkpoints : undefined;
  let tokenizer: Bpe;
  let model: Transformer;
  if (resumeFrom !== undefined) {
    tokenizer = await Bpe.load(join(run.out, 'tokenizer.json'));
    model = new Transformer(readModelConfig(run.out).model);
  } else {
    if (lead && existsSync(logPath)) unlinkSync(logPath);
    tokenizer = Bpe.learn(train.flatMap((p) => [p.src, p.tgt]), { vocabSize: run.vocabSize });
    const vocab = tokenizer.vocabSize;
    model = new Transformer(makeConfig(run.modelPreset, { ...run.model, srcVocab: vocab, tgtVocab: vocab, seed: run.seed }));
  }
  const settings = { ...run, train: undefined, val: undefined, log: undefined };
  const dirExtra = { srcLang: run.srcLang, tgtLang: run.tgtLang, training: settings as unknown as Record<string, unknown> };
  const config = model.config;
  const examples = encodeExamples(train, tokenizer).filter((e) => e.src.length < config.maxLen && e.tgt.length < config.maxLen);
  const valExamples = encodeExamples(val, tokenizer).filter((e) => e.src.length < config.maxLen && e.tgt.length < config.maxLen);
  const batcher = new TokenBatcher(examples, { maxSrcTokens: run.batchTokens, maxTgtTokens: run.batchTokens, seed: run.seed });
  const valBatches = [...new TokenBatcher(valExamples, { maxSrcTokens: run.batchTokens, maxTgtTokens: run.batchTokens, seed: 0 }).batches(0)];
  const optimizer = new Adam(model.parameters(), { lr: noamSchedule({ dModel: config.dModel, warmup: run.warmup, factor: run.lrFactor }) });

  let loop: LoopState = { step: 0, epoch: 0, batchInEpoch: 0, rng: model.rng.state(), tokens: 0, seconds: 0 };
  if (resumeFrom !== undefined) {
    const resumed = loadNewestReadable(resumeFrom, (path) => loadCheckpoint(path, model, optimizer), log);
    loop = resumed.state;
    model.rng.setState(loop.rng);
    log(`resumed from ${resumed.path} at step ${loop.step}`);
  }
  const buckets = world.size > 1 ? new GradientBuckets(optimizer.params, world, run.bucketBytes) : null;
  // Rank 0 draws dropout masks from the checkpointed stream; every other rank from its own, derived from it.
  if (world.rank > 0) model.rng.seed(mixSeed(...model.rng.state().slice(0, 4), world.rank));
  if (buckets !== null) await broadcastParameters(world, optimizer.params);
  // On resume too: a kill during the last checkpoint's save may have left the directory's weights older than it.
  if (lead) await saveModelDir(run.out, model, tokenizer, dirExtra);
  const history = lead ? truncateLog(logPath, loop.step) : [];
  const writeLog = (rec: LogRecord) => { if (lead) appendFileSync(logPath, JSON.stringify(rec) + '\n'); history.push(rec); };
  const timeLimit = run.maxMinutes > 0 ? run.maxMinutes * 60 - loop.seconds : undefined;
  const bar = run.progress === false || !lead ? null : new ProgressBar({ total: run.maxSteps, label: 'train', unit: 'tok', timeLimit, startAt: loop.step });
  const started = performance.now();
  const secondsBefore = loop.seconds; // training time of earlier runs (on resume)
  const elapsed = () => secondsBefore + (performance.now() - started) / 1000;
  let lastLoss = NaN;
  let valLoss = NaN;
  let valBleu: number | null = null;
  const writeCurves = curvesWriter(run.out, TRANSLATION_CURVES, log);
  const evaluate = async (withBleu: boolean) => {
    if (!lead) return;
    valLoss = await evaluateLoss(model, valBatches, config.labelSmoothing);
    valBleu = null;
    if (withBleu && run.bleuSentences > 0) {
      const subset = val.slice(0, run.bleuSentences);
      const hyps = await translate(model, tokenizer, subset.map((p) => p.src), { special: { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID } });
      valBleu = corpusBleu(hyps, [subset.map((p) => p.tgt)]).score;
    }
    writeLog({ step: loop.step, epoch: loop.epoch, val_loss: valLoss, val_bleu: valBleu, seconds: elapsed() });
    log(`step ${loop.step}: val loss ${valLoss.toFixed(3)}${valBleu === null ? '' : `, val BLEU (greedy, ${run.bleuSentences} sent.) ${valBleu.toFixed(2)}`}`);
    await writeCurves(history);
  };
  const checkpoint = async () => {
    if (!lead) return;
    loop.rng = model.rng.state();
    loop.seconds = elapsed();
    await saveCheckpoint(join(ckptDir, `ckpt-${loop.step}.safetensors`), model, optimizer, loop);
    for (const old of listCheckpoints(ckptDir).slice(0, -run.keepCheckpoints)) unlinkSync(old);
    await saveModelDir(run.out, model, tokenizer, dirExtra);
  };

  if (resumeFrom === undefined) await evaluate(false); // the starting point of the validation curve
  const timeUp = () => run.maxMinutes > 0 && elapsed() > run.maxMinutes * 60;
  const guard = new NonfiniteGuard({ policy: run.onNonfinite, maxSkips: run.maxNonfiniteSkips });
  const named = model.namedParameters();
  outer: while (loop.step < run.maxSteps) {
    const plan = batcher.plan(loop.epoch);
    // Resuming mid-epoch starts at the first batch the checkpoint had not consumed.
    while (loop.batchInEpoch < plan.length) {
      // Each rank takes its share of the global batch; its gradients count with its share of the target tokens.
      const global = plan[loop.batchInEpoch]!;
      const batch = batcher.batch(rankShare(global, world.rank, world.size));
      const globalTokens = buckets === null ? batch.tgtTokens : batcher.targetTokens(global);
      const lr = optimizer.lr;
      buckets?.begin(batch.tgtTokens / globalTokens);
      let stepLoss = 0;
      if (batch.B > 0) {
        const loss = tidy(() => {
          const t = batchTensors(batch);
          const l = model.loss(t.src, t.tgtIn, t.tgtOut, { padId: PAD_ID, labelSmoothing: config.labelSmoothing });
          l.backward();
          run.onGradients?.(named, loop.step + 1);
          return l;
        });
        stepLoss = await loss.itemAsync();
        loss.dispose();
      }
      // Rank 0's clock decides a time limit for every rank.
      const agreed = buckets === null ? { loss: stepLoss, stop: false } : await buckets.finish(stepLoss, lead && timeUp());
      stepLoss = agreed.loss;
      const { gradNorm, verdict } = await guardedUpdate(stepLoss, optimizer, guard, named, run.clipNorm);
      loop.step++;
      loop.batchInEpoch++;
      loop.tokens += globalTokens;
      if (!verdict.ok) {
        const what = describeNonfinite(loop.step, stepLoss, gradNorm, verdict.firstBadGradient);
        writeLog({ step: loop.step, epoch: loop.epoch, skipped: what, tokens: loop.tokens, seconds: elapsed() });
        if (verdict.stop) {
          bar?.done();
          throw new Error(`train: stopped after ${verdict.inARow} non-finite step${verdict.inARow === 1 ? '' : 's'} in a row (--on-nonfinite ${guard.policy}); ${what}. ` +
            `The last good checkpoint is ${listCheckpoints(ckptDir).at(-1) ?? 'none (none was written yet)'}; lower --lr-factor or set --clip`);
        }
        log(`${what}; update skipped (${verdict.inARow} in a row, ${guard.skipped} in all)`);
      } else {
        lastLoss = stepLoss;
        writeLog({ step: loop.step, epoch: loop.epoch, loss: lastLoss, lr, tokens: loop.tokens, seconds: elapsed() });
      }
      bar?.tick(loop.step, globalTokens, { loss: lastLoss, lr, epoch: loop.epoch });
      const last = loop.step >= run.maxSteps || (buckets === null ? timeUp() : agreed.stop);
      if (loop.step % run.evalEvery === 0 || last) await evaluate(true);
      if (loop.step % run.checkpointEvery === 0 || last) await checkpoint();
      if (last) break outer;
    }
    loop.epoch++;
    loop.batchInEpoch = 0;
  }
  bar?.done();
  buckets?.dispose();
  await world.barrier('the end of training'); // the others wait for rank 0's last evaluation and checkpoint
  return { steps: loop.step, seconds: elapsed(), trainLoss: lastLoss, valLoss, valBleu, out: run.out };
}
