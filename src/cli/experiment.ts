// `aiayn experiment complexity`: Table 1 of the paper (§4 "Why Self-Attention") measured. Times a
// self-attention, a recurrent (GRU) and a convolutional layer of the same width d across sequence lengths n,
// prints them with Table 1's sequential operations, maximum path lengths and complexities, says where
// self-attention stops being the faster layer relative to n = d, and draws time against n (log-log) as HTML.

import { writeFileAtomic } from '../data/files.js';
import { crossovers, LAYER_KINDS, measureComplexity, type ComplexityResult, type Crossover, type LayerKind } from '../experiments/complexity.js';
import { logLogChart } from '../experiments/plot.js';
import { escapeXml } from '../io/svg.js';
import { CliError, getFlag, getNumber, getString, parseArgs, type ParsedArgs } from './args.js';

const HELP = `usage: aiayn experiment complexity [options]

Times one forward pass (noGrad, median of the repeats after a warm-up) of three layers of width d over
sequences of length n, as compared in Table 1 of the paper:
  self-attention  MultiHeadAttention, h heads (O(n^2 d), 1 sequential op, path length 1)
  recurrent       a GRU unrolled over the n positions (O(n d^2), n sequential steps, path length n)
  convolution     causal, contiguous kernel of width k, im2col + one GEMM (O(k n d^2), 1 sequential op;
                  a stack of ceil((n-1)/(k-1)) layers connects all positions)

options:
  --d D           layer width (default 512)
  --n LIST        comma-separated sequence lengths (default 16,32,64,128,256,512,1024)
  --heads H       attention heads, must divide D (default 8)
  --kernel K      convolution kernel width, >= 2 (default 3)
  --batch B       sequences per forward pass (default 1)
  --repeats R     timed runs per layer and n (default 5)
  -o FILE.html    also write the plot (time vs n, log-log, n = d marked) and the table as HTML
  --json          print the results as JSON instead of the table`;

const OPTIONS = new Set(['d', 'n', 'heads', 'kernel', 'batch', 'repeats', 'out', 'json', 'help']);
const DEFAULT_NS = [16, 32, 64, 128, 256, 512, 1024];
const COLORS: Record<LayerKind, string> = { 'self-attention': '#1f77b4', recurrent: '#d62728', convolution: '#2ca02c' };

/** A positive integer option, or the default. */
function positiveInt(args: ParsedArgs, name: string, fallback: number): number {
  const v = getNumber(args, name, fallback)!;
  if (!Number.isInteger(v) || v < 1) throw new CliError(`option --${name} must be a positive integer, got '${getString(args, name)}'`);
  return v;
}

/** The --n list: distinct positive integers, ascending. */
function lengths(args: ParsedArgs): number[] {
  const raw = getString(args, 'n');
  if (raw === undefined) return DEFAULT_NS;
  const ns = raw.split(',').map((s) => Number(s.trim()));
  if (raw.trim() === '' || ns.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new CliError(`option --n must be a comma-separated list of positive integers, got '${raw}'`);
  }
  return [...new Set(ns)].sort((a, b) => a - b);
}

/** A count in 3 significant digits (1.34e+8 style for large ones). */
function count(v: number): string {
  return v < 1e5 ? String(v) : v.toPrecision(3);
}

/** The conditions of a run, in one line. */
function conditions(r: ComplexityResult): string {
  return `d = ${r.d}, h = ${r.heads}, k = ${r.kernel}, batch ${r.batch}, median of ${r.repeats} runs, ${r.backend} backend (${r.threads} thread${r.threads === 1 ? '' : 's'})`;
}

/** One sentence on where self-attention is faster than the other layer, measured and predicted. */
function describeCrossover(c: Crossover, r: ComplexityResult): string {
  const ns = [...new Set(r.rows.map((row) => row.n))];
  const ratio = (n: number) => `n/d = ${Number((n / r.d).toPrecision(3))}`;
  const other = c.against === 'recurrent' ? 'the recurrent layer' : `the convolution (k = ${r.kernel})`;
  let measured: string;
  if (c.attentionFasterAt.length === 0) measured = 'slower at every measured n';
  else if (c.attentionFasterAt.length === ns.length) measured = `faster at every measured n (${ns[0]}..${ns.at(-1)})`;
  else measured = `faster at n = ${c.attentionFasterAt.join(', ')}` +
    (c.measuredCrossover === null ? ' (including the largest n)' : `, slower from n = ${c.measuredCrossover} on (${ratio(c.measuredCrossover)})`);
  const table1 = `Table 1's complexities are equal at n = ${c.against === 'recurrent' ? 'd' : 'k d'} = ${c.table1Crossover}`;
  const macs = c.multiplyAddCrossover === null
    ? 'the built attention layer always does more multiply-adds'
    : `the built layers' multiply-adds are equal at n = ${c.multiplyAddCrossover}`;
  return `self-attention vs ${other}: ${measured}; ${table1}; ${macs}.`;
}

/** The results as an aligned text table followed by the crossover sentences. */
function formatComplexity(r: ComplexityResult): string {
  const header = ['layer', 'n', 'ms/forward', 'sequential ops', 'max path length', 'Table 1 complexity', 'multiply-adds'];
  const table = r.rows.map((row) => [row.layer, String(row.n), row.ms.toPrecision(3), String(row.sequentialOps), String(row.maxPathLength),
    count(row.table1Complexity), count(row.multiplyAdds)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const lines = [header, ...table].map((line) => line.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd());
  return [`Table 1 measured: ${conditions(r)}`, '', ...lines, '', ...crossovers(r).map((c) => describeCrossover(c, r))].join('\n');
}

/** The HTML page: the log-log plot of time against n with n = d marked, the table and the crossovers. */
function complexityPage(r: ComplexityResult): string {
  const series = LAYER_KINDS.map((kind) => ({
    name: kind, color: COLORS[kind],
    points: r.rows.filter((row) => row.layer === kind).map((row): [number, number] => [row.n, row.ms]),
  }));
  const chart = logLogChart({
    title: 'time per layer forward vs sequence length (log-log)', xLabel: 'sequence length n', yLabel: 'ms per forward',
    series, markers: [{ x: r.d, label: `n = d = ${r.d}` }],
  });
  const head = '<tr><th>layer</th><th>n</th><th>ms/forward</th><th>sequential ops</th><th>max path length</th><th>Table 1 complexity</th><th>multiply-adds</th></tr>';
  const rows = r.rows.map((row) => `<tr><td>${row.layer}</td><td>${row.n}</td><td>${row.ms.toPrecision(3)}</td><td>${row.sequentialOps}</td>` +
    `<td>${row.maxPathLength}</td><td>${count(row.table1Complexity)}</td><td>${count(row.multiplyAdds)}</td></tr>`).join('');
  const notes = crossovers(r).map((c) => `<li>${escapeXml(describeCrossover(c, r))}</li>`).join('');
  return '<!doctype html><meta charset="utf-8"><title>aiayn: Table 1 measured</title><body style="font-family:sans-serif">' +
    `<h1 style="font-size:18px">Table 1 measured (Vaswani et al. 2017, §4)</h1><p>${escapeXml(conditions(r))}</p>${chart}<ul>${notes}</ul>` +
    `<table border="1" cellpadding="3" style="border-collapse:collapse;font-size:13px">${head}${rows}</table></body>\n`;
}

/** Runs `aiayn experiment complexity`. */
async function runComplexity(args: ParsedArgs): Promise<number> {
  const d = positiveInt(args, 'd', 512);
  const heads = positiveInt(args, 'heads', 8);
  if (d % heads !== 0) throw new CliError(`--d ${d} must be divisible by --heads ${heads}`);
  const kernel = positiveInt(args, 'kernel', 3);
  if (kernel < 2) throw new CliError(`option --kernel must be at least 2 (a width-1 kernel connects no two positions), got ${kernel}`);
  const ns = lengths(args);
  const batch = positiveInt(args, 'batch', 1);
  const repeats = positiveInt(args, 'repeats', 5);
  const out = getString(args, 'out');
  const result = measureComplexity({ d, ns, heads, kernel, batch, repeats, onLength: (n) => process.stderr.write(`measuring n = ${n}\n`) });
  if (out !== undefined) await writeFileAtomic(out, complexityPage(result));
  console.log(getFlag(args, 'json') ? JSON.stringify({ ...result, crossovers: crossovers(result) }) : formatComplexity(result));
  if (out !== undefined && !getFlag(args, 'json')) console.log(`plot written to ${out}`);
  return 0;
}

/** Runs `aiayn experiment`. */
export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { booleans: ['json', 'help'], aliases: { '-o': 'out', '-h': 'help' } });
  const [what, ...extra] = args.positionals;
  if (getFlag(args, 'help') || what === undefined) { console.log(HELP); return what === undefined && !getFlag(args, 'help') ? 1 : 0; }
  if (what !== 'complexity') throw new CliError(`unknown experiment '${what}' (known: complexity)`);
  if (extra.length > 0) throw new CliError(`unexpected argument '${extra[0]}'`);
  const unknown = [...args.options.keys()].find((name) => !OPTIONS.has(name));
  if (unknown !== undefined) throw new CliError(`unknown option --${unknown} (see 'aiayn experiment complexity --help')`);
  return runComplexity(args);
}
