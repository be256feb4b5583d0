// What `train --resume` cleans up after a run killed at any moment (SIGKILL, power loss): the temporary files
// of atomic writes that never got renamed, the log records written after the checkpoint it resumes from (and
// a torn last line), and a newest checkpoint that cannot be read (the one before it is used instead).

import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../data/files.js';

/** One JSONL log record. */
export type LogRecord = Record<string, number | string | null>;

/** The names writeFileAtomicSync gives its temporary files: `.NAME.PID.RANDOM.tmp`. */
const ATOMIC_TEMP = /^\..+\.\d+\.[0-9a-z]+\.tmp$/;

/** Deletes the temporary files an interrupted atomic write left in dir; returns their names. */
export function removeStaleTemps(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const stale = readdirSync(dir).filter((f) => ATOMIC_TEMP.test(f));
  for (const f of stale) unlinkSync(join(dir, f));
  return stale;
}

/**
 * The log's records up to and including `step` (those after it will be written again by the resumed run; a
 * torn last line, cut by the kill, is dropped); the log is rewritten atomically to hold exactly them.
 */
export function truncateLog(path: string, step: number): LogRecord[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const kept: LogRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let rec: LogRecord;
    try {
      rec = JSON.parse(line) as LogRecord;
    } catch (err) {
      if (i === lines.length - 1) return; // a last line with no newline: cut short by a kill mid-append
      throw new Error(`${path}:${i + 1}: not a JSON record (${(err as Error).message})`);
    }
    if (typeof rec['step'] === 'number' && rec['step'] <= step) kept.push(rec);
  });
  writeFileAtomicSync(path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  return kept;
}

/** Loads the newest checkpoint of `paths` (oldest first) that reads without error; reports each one skipped. */
export function loadNewestReadable<T>(paths: readonly string[], load: (path: string) => T, report: (line: string) => void): { path: string; state: T } {
  for (let i = paths.length - 1; i >= 0; i--) {
    try {
      return { path: paths[i]!, state: load(paths[i]!) };
    } catch (err) {
      if (i === 0) throw err;
      report(`cannot resume from ${paths[i]} (${(err as Error).message}); trying the one before`);
    }
  }
  throw new Error('loadNewestReadable: no checkpoint given');
}
