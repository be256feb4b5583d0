// The Table 1 experiment (§4): the GRU and the causal convolution against step-by-step plain-JS references,
// the self-attention layer's shape and reach, the sequential-operation and path-length formulas (checked
// against what stacks of the built layers actually connect), the crossover analysis, the plot and the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliError } from '../src/cli/args.js';
import { run } from '../src/cli/experiment.js';
import {
  CausalConvLayer, crossovers, GruLayer, LAYER_KINDS, maxPathLength, multiplyAdds, SelfAttentionLayer, sequentialOperations,
  table1Complexity, type ComplexityResult, type SequenceLayer,
} from '../src/experiments/complexity.js';
import { noGrad, Rng, tensor, type Tensor } from '../src/tensor/index.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Deterministic inputs (B, n, d) as plain numbers. */
function inputs(batch: number, n: number, d: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: batch * n * d }, () => rng.uniform() * 2 - 1);
}

/** The layer's forward pass on plain numbers, back as plain numbers. */
function forward(layer: SequenceLayer, x: number[], shape: [number, number, number]): number[] {
  return [...noGrad(() => layer.forward(tensor(x, shape))).toArray()];
}

/** Values of a parameter as plain numbers. */
const values = (t: Tensor): number[] => [...t.toArray()];

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

test('the GRU equals a step-by-step plain-JS GRU (torch gate order r, z, n)', () => {
  const [batch, n, d] = [2, 5, 4];
  const gru = new GruLayer(d, new Rng(7));
  const [wih, whh, bih, bhh] = [gru.weightIh, gru.weightHh, gru.biasIh, gru.biasHh].map(values) as [number[], number[], number[], number[]];
  const x = inputs(batch, n, d, 1);
  const got = forward(gru, x, [batch, n, d]);
  /** Row `row` of a [3d, d] matrix times v, plus the bias. */
  const affine = (w: number[], b: number[], row: number, v: number[]): number => b[row]! + v.reduce((acc, vi, j) => acc + w[row * d + j]! * vi, 0);
  for (let b = 0; b < batch; b++) {
    let h = new Array<number>(d).fill(0);
    for (let t = 0; t < n; t++) {
      const xt = x.slice((b * n + t) * d, (b * n + t + 1) * d);
      const next = h.map((hi, i) => {
        const r = sigmoid(affine(wih, bih, i, xt) + affine(whh, bhh, i, h));
        const z = sigmoid(affine(wih, bih, d + i, xt) + affine(whh, bhh, d + i, h));
        const c = Math.tanh(affine(wih, bih, 2 * d + i, xt) + r * affine(whh, bhh, 2 * d + i, h));
        return (1 - z) * c + z * hi;
      });
      h = next;
      for (let i = 0; i < d; i++) {
        const diff = Math.abs(got[(b * n + t) * d + i]! - h[i]!);
        assert.ok(diff < 1e-5, `batch ${b}, step ${t}, unit ${i}: ${got[(b * n + t) * d + i]} vs ${h[i]}`);
      }
    }
  }
});

test('the causal convolution equals a direct plain-JS convolution, for k = 2 and k = 3', () => {
  const [batch, n, d] = [2, 6, 3];
  for (const k of [2, 3]) {
    const conv = new CausalConvLayer(d, k, new Rng(k));
    const [w, bias] = [values(conv.weight), values(conv.bias)];
    const x = inputs(batch, n, d, 2);
    const got = forward(conv, x, [batch, n, d]);
    for (let b = 0; b < batch; b++) for (let t = 0; t < n; t++) for (let o = 0; o < d; o++) {
      let want = bias[o]!;
      for (let j = 0; j < k; j++) {
        const src = t - k + 1 + j; // tap j reads position t - k + 1 + j; zeros before the start
        if (src < 0) continue;
        for (let c = 0; c < d; c++) want += w[o * k * d + j * d + c]! * x[(b * n + src) * d + c]!;
      }
      assert.ok(Math.abs(got[(b * n + t) * d + o]! - want) < 1e-5, `k ${k}, batch ${b}, t ${t}, out ${o}`);
    }
  }
  assert.throws(() => new CausalConvLayer(4, 1), /kernel width must be an integer >= 2, got 1/);
});

/** Whether output position `to` of the stacked layers changes when input position `from` does. */
function reaches(layers: SequenceLayer[], n: number, d: number, from: number, to: number): boolean {
  const x = inputs(1, n, d, 3);
  const apply = (v: number[]) => layers.reduce((acc, layer) => forward(layer, acc, [1, n, d]), v);
  const base = apply(x);
  const moved = [...x];
  for (let c = 0; c < d; c++) moved[from * d + c]! += 1;
  const after = apply(moved);
  return Array.from({ length: d }, (_, c) => Math.abs(after[to * d + c]! - base[to * d + c]!)).some((diff) => diff > 1e-6);
}

test('self-attention maps (B, n, d) to (B, n, d) and connects the last input to the first output in one layer', () => {
  const attention = new SelfAttentionLayer(8, 2, new Rng(4)).eval();
  const out = noGrad(() => attention.forward(tensor(inputs(2, 5, 8, 5), [2, 5, 8])));
  assert.deepEqual(out.shape, [2, 5, 8]);
  assert.ok(reaches([attention], 5, 8, 4, 0));
  assert.equal(maxPathLength('self-attention', 5, 3), 1);
});

test('path lengths match what the built layers connect: GRU n steps, ceil((n-1)/(k-1)) stacked convolutions', () => {
  const d = 2;
  const gru = new GruLayer(d, new Rng(5));
  assert.ok(reaches([gru], 6, d, 0, 5), 'x_1 reaches y_n through the recurrence');
  assert.ok(!reaches([gru], 6, d, 5, 0), 'the recurrence is causal');
  for (const [n, k] of [[7, 3], [9, 3], [10, 4], [6, 2]] as const) {
    const depth = maxPathLength('convolution', n, k);
    const stack = Array.from({ length: depth }, (_, i) => new CausalConvLayer(d, k, new Rng(10 + i)));
    assert.ok(reaches(stack, n, d, 0, n - 1), `n ${n}, k ${k}: ${depth} layers connect position 1 to n`);
    assert.ok(!reaches(stack.slice(1), n, d, 0, n - 1), `n ${n}, k ${k}: ${depth - 1} layers do not`);
  }
});

test('sequential operations, path lengths and complexities follow Table 1 for several n', () => {
  const [d, k] = [512, 3];
  for (const n of [2, 16, 100, 512, 1024]) {
    assert.equal(sequentialOperations('self-attention', n), 1);
    assert.equal(sequentialOperations('recurrent', n), n);
    assert.equal(sequentialOperations('convolution', n), 1);
    assert.equal(maxPathLength('self-attention', n, k), 1);
    assert.equal(maxPathLength('recurrent', n, k), n);
    assert.equal(table1Complexity('self-attention', n, d, k), n * n * d);
    assert.equal(table1Complexity('recurrent', n, d, k), n * d * d);
    assert.equal(table1Complexity('convolution', n, d, k), k * n * d * d);
  }
  assert.deepEqual([2, 3, 16, 1024].map((n) => maxPathLength('convolution', n, 3)), [1, 1, 8, 512]);
  assert.deepEqual([2, 16, 1024].map((n) => maxPathLength('convolution', n, 5)), [1, 4, 256]);
  // The built layers' multiply-adds: attention equals the GRU exactly at n = d.
  assert.equal(multiplyAdds('self-attention', d, d, k), multiplyAdds('recurrent', d, d, k));
  assert.ok(multiplyAdds('self-attention', d / 2, d, k) < multiplyAdds('recurrent', d / 2, d, k));
});

test('crossovers read the measured times and give the predicted n', () => {
  const ms: Record<string, number[]> = { 'self-attention': [1, 2, 8, 30], recurrent: [5, 9, 20, 40], convolution: [2, 3, 4, 6] };
  const ns = [16, 32, 64, 128];
  const result: ComplexityResult = {
    d: 64, heads: 8, kernel: 3, batch: 1, repeats: 1, backend: 'ts', threads: 1,
    rows: ns.flatMap((n, i) => LAYER_KINDS.map((layer) => ({ layer, n, ms: ms[layer]![i]!, sequentialOps: 0, maxPathLength: 0, table1Complexity: 0, multiplyAdds: 0 }))),
  };
  const [recurrent, convolution] = crossovers(result);
  assert.deepEqual(recurrent, { against: 'recurrent', attentionFasterAt: [16, 32, 64, 128], measuredCrossover: null, table1Crossover: 64, multiplyAddCrossover: 64 });
  assert.deepEqual(convolution, { against: 'convolution', attentionFasterAt: [16, 32], measuredCrossover: 64, table1Crossover: 192, multiplyAddCrossover: null });
});

/** Runs `aiayn experiment ...args` in this process; resolves to the exit code and what it printed. */
async function experiment(args: string[]): Promise<{ code: number; out: string }> {
  const printed: string[] = [];
  const [log, write] = [console.log, process.stderr.write];
  console.log = (...parts: unknown[]) => { printed.push(parts.join(' ')); };
  process.stderr.write = () => true;
  try {
    return { code: await run(args), out: printed.join('\n') };
  } finally {
    [console.log, process.stderr.write] = [log, write];
  }
}

test('the CLI prints the table for tiny sizes, writes the plot (one path per layer, n = d marked) and JSON', async () => {
  const html = join(tempDir('aiayn-complexity-'), 'plot.html');
  const tiny = ['complexity', '--d', '8', '--heads', '2', '--n', '16,4,8', '--repeats', '1'];
  const r = await experiment([...tiny, '-o', html]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^Table 1 measured: d = 8, h = 2, k = 3, batch 1, median of 1 runs, /);
  assert.match(r.out, /layer +n +ms\/forward +sequential ops +max path length +Table 1 complexity +multiply-adds/);
  assert.match(r.out, /\nrecurrent +16 +[\d.e+-]+ +16 +16 +1024 +6144\n/);
  assert.match(r.out, /\nconvolution +4 +[\d.e+-]+ +1 +2 +768 +768\n/);
  assert.match(r.out, /\nself-attention +8 +[\d.e+-]+ +1 +1 +512 +3072\n/);
  assert.match(r.out, /self-attention vs the recurrent layer: .*Table 1's complexities are equal at n = d = 8;/);
  assert.match(r.out, /plot written to /);
  const page = readFileSync(html, 'utf8');
  assert.equal(page.match(/<path class="series"/g)?.length, 3);
  for (const kind of LAYER_KINDS) assert.ok(page.includes(`<title>${kind}</title>`), kind);
  assert.equal(page.match(/<line class="marker"/g)?.length, 1);
  assert.ok(page.includes('n = d = 8'));

  const json = JSON.parse((await experiment([...tiny, '--json'])).out) as ComplexityResult & { crossovers: unknown[] };
  assert.deepEqual(json.rows.map((row) => `${row.layer}@${row.n}`), [4, 8, 16].flatMap((n) => LAYER_KINDS.map((k) => `${k}@${n}`)));
  assert.ok(json.rows.every((row) => row.ms > 0));
  assert.equal(json.crossovers.length, 2);
});

test('the CLI rejects bad flags with a clear message', async () => {
  const bad: Array<[string[], RegExp]> = [
    [['complexity', '--n', '16,0'], /--n must be a comma-separated list of positive integers, got '16,0'/],
    [['complexity', '--n', 'many'], /--n must be a comma-separated list/],
    [['complexity', '--d', '8', '--heads', '3'], /--d 8 must be divisible by --heads 3/],
    [['complexity', '--kernel', '1'], /--kernel must be at least 2/],
    [['complexity', '--repeats', '0'], /--repeats must be a positive integer, got '0'/],
    [['complexity', '--d', '2.5'], /--d must be a positive integer/],
    [['complexity', '--size', '3'], /unknown option --size/],
    [['complexity', 'extra'], /unexpected argument 'extra'/],
    [['speed'], /unknown experiment 'speed' \(known: complexity\)/],
  ];
  for (const [args, message] of bad) await assert.rejects(experiment(args), (err: Error) => err instanceof CliError && message.test(err.message), args.join(' '));
  assert.equal((await experiment(['--help'])).code, 0);
  const viaMain = spawnSync(process.execPath, ['--import', 'tsx', '-e',
    "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));", 'experiment', 'complexity', '--batch', 'x'],
  { cwd: ROOT, encoding: 'utf8' });
  assert.equal(viaMain.status, 2);
  assert.match(viaMain.stderr, /aiayn experiment: option --batch must be a number, got 'x'/);
});
