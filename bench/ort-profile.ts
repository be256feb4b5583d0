// Summarises onnxruntime's profiler output (SessionOptions.enableProfiling: a Chrome-trace JSON array per session)
// by operator type: the "Node" events' durations summed, beside the runs' total, so a benchmark can say where
// onnxruntime's time goes.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One trace event of onnxruntime's profiler (the fields used here). */
interface TraceEvent { cat: string; name: string; dur: number; args?: { op_name?: string } }

/** Per profile file in `dir` (prefix `prefix`): run count, total run ms and ms by operator type, costliest first. */
export function summarizeOrtProfiles(dir: string, prefix: string): Array<{ file: string; runs: number; runMs: number; ops: Array<[string, number]> }> {
  return readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.json')).sort().map((file) => {
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[];
    const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
    const ops = new Map<string, number>();
    for (const e of events) if (e.cat === 'Node' && e.args?.op_name !== undefined) ops.set(e.args.op_name, (ops.get(e.args.op_name) ?? 0) + e.dur / 1000);
    return { file, runs: runs.length, runMs: runs.reduce((s, e) => s + e.dur / 1000, 0), ops: [...ops].sort((a, b) => b[1] - a[1]) };
  });
}
