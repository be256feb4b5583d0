// A one-line progress bar for long work (training, decoding a test set): percentage, rate, ETA and any
// extra fields, redrawn in place on a terminal and printed every few seconds as plain lines otherwise.

/** Options of a progress bar. */
export interface ProgressOptions {
  total: number;
  label?: string;
  /** Where to draw; defaults to stderr. */
  stream?: NodeJS.WriteStream;
  /** Unit of the rate (e.g. 'tok'); the rate counts what `tick` adds to `units`. */
  unit?: string;
  /** Seconds between plain-line prints when the stream is not a terminal. */
  plainEvery?: number;
  /** The work stops after this many seconds even if `total` is not reached; the ETA never exceeds it. */
  timeLimit?: number;
  /** Where `done` stands when the bar starts (a resumed run): the rate behind the ETA counts from here. */
  startAt?: number;
}

/** Formats seconds as 1h02m, 3m05s or 12s. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A progress bar: call tick(done, units, fields) as work advances and done() at the end. */
export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private units = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
  }

  /** Records progress (`done` out of total, `units` more processed) and redraws when due. */
  tick(done: number, units = 0, fields: Record<string, string | number> = {}): void {
    this.units += units;
    const now = performance.now();
    const every = this.tty ? 100 : (this.opts.plainEvery ?? 10) * 1000;
    if (now - this.lastDraw < every && done < this.opts.total) return;
    this.lastDraw = now;
    this.stream.write(this.render(done, fields, now) + (this.tty ? '\r' : '\n'));
  }

  /** The bar text for `done` steps at time `now` (ms). */
  render(done: number, fields: Record<string, string | number>, now = performance.now()): string {
    const elapsed = (now - this.start) / 1000;
    const frac = this.opts.total > 0 ? Math.min(1, done / this.opts.total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const rate = elapsed > 0 ? this.units / elapsed : 0;
    const doneHere = done - (this.opts.startAt ?? 0);
    const byCount = doneHere > 0 ? (elapsed * (this.opts.total - done)) / doneHere : Infinity;
    const eta = this.opts.timeLimit === undefined ? byCount : Math.min(byCount, Math.max(0, this.opts.timeLimit - elapsed));
    const extra = Object.entries(fields).map(([k, v]) => `${k} ${typeof v === 'number' ? formatNumber(v) : v}`).join(' | ');
    const label = this.opts.label === undefined ? '' : `${this.opts.label} `;
    const unit = this.opts.unit === undefined ? '' : ` | ${formatNumber(rate)} ${this.opts.unit}/s`;
    return `${label}[${bar}] ${(100 * frac).toFixed(0).padStart(3)}% ${done}/${this.opts.total}${unit}${extra ? ` | ${extra}` : ''} | ${formatDuration(elapsed)} < ${formatDuration(eta)}`;
  }

  /** Ends the bar (moves past the redrawn line on a terminal). */
  done(): void {
    if (this.tty) this.stream.write('\n');
  }
}

/** Compact number formatting for the bar: integers as they are, else 3 significant digits, k for thousands. */
function formatNumber(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 10000) return String(v);
  if (Math.abs(v) >= 10000) return `${(v / 1000).toFixed(1)}k`;
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}
