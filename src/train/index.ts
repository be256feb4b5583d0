// The training recipe of §5.3 and §5.4: Adam(W) with the warmup / inverse-square-root schedule, gradient
// clipping, and label-smoothed cross entropy.
export { Adam, AdamW, type AdamOptions, type AdamState, type ParamState } from './optim.js';
export { noamRate, noamSchedule, constantSchedule, type Schedule, type NoamOptions } from './schedule.js';
export { clipGradNorm } from './clip.js';
export { labelSmoothedLoss, lossAndGrads, type LabelSmoothingOptions, type LossAndGrads, type LossOptions } from './loss.js';
export { trainTranslation, evaluateLoss, type TranslationRun, type TranslationResult } from './translation.js';
export { TRAIN_PRESETS, trainPreset, type TrainSettings } from './presets.js';
export { saveCheckpoint, loadCheckpoint, averageCheckpoints, type LoopState } from './checkpoint.js';
export { ProgressBar } from './progress.js';
export { openCollective, launchedSize, allreduce, type Collective, type PendingOp } from './distributed.js';
export { GradientBuckets, broadcastParameters } from './grad-buckets.js';
