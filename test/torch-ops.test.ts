// Every op against PyTorch golden files (test/fixtures/ops, written by scripts/make-fixtures.py): the forward
// values and the gradients of a random linear functional sum_i sum(y_i * dy_i) w.r.t. every float input, on
// every available backend, within 1e-6 + 1e-5 * |expected| (a fixture may loosen rtol in its metadata).
// The fixtures hold inputs, outputs and gradients, so torch is not needed here.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { availableBackends, setBackend } from '../src/backend/index.js';
import { loadSafetensors, type SafetensorsTensor } from '../src/io/index.js';
import {
  abs, add, argmax, concat, crossEntropy, div, embedding, exp, gelu, layerNorm, log, logSoftmax, matmul, maskedFill, max,
  maximum, mean, mul, neg, pow, relu, sigmoid, softmax, split, sqrt, stack, sub, sum, tanh, tensor, tidy, where, type Tensor,
} from '../src/tensor/index.js';

const DIR = new URL('./fixtures/ops/', import.meta.url);
const ATOL = 1e-6;
const RTOL = 1e-5;

/** The op arguments a fixture can carry (metadata "args"). */
interface Args {
  axes?: number[] | null; keepdim?: boolean; axis?: number; scale?: number; exponent?: number; value?: number;
  approximate?: 'none' | 'tanh'; eps?: number; ignoreIndex?: number; labelSmoothing?: number; sizes?: number[];
  transpose?: string[];
}

type Op = (x: Tensor[], args: Args) => Tensor | Tensor[];

/** How each fixture's op runs on our tensors (inputs in the order of the metadata "inputs"). */
const OPS: Record<string, Op> = {
  add: ([a, b]) => add(a!, b!),
  sub: ([a, b]) => sub(a!, b!),
  mul: ([a, b]) => mul(a!, b!),
  div: ([a, b]) => div(a!, b!),
  pow: ([a, b], { exponent }) => pow(a!, b ?? exponent!),
  maximum: ([a, b]) => maximum(a!, b!),
  exp: ([a]) => exp(a!),
  log: ([a]) => log(a!),
  sqrt: ([a]) => sqrt(a!),
  tanh: ([a]) => tanh(a!),
  relu: ([a]) => relu(a!),
  sigmoid: ([a]) => sigmoid(a!),
  neg: ([a]) => neg(a!),
  abs: ([a]) => abs(a!),
  gelu: ([a], { approximate }) => gelu(a!, approximate),
  where: ([cond, a, b]) => where(cond!, a!, b!),
  maskedFill: ([a, mask], { value }) => maskedFill(a!, mask!, value!),
  sum: ([a], { axes, keepdim }) => sum(a!, axes ?? undefined, keepdim),
  mean: ([a], { axes, keepdim }) => mean(a!, axes ?? undefined, keepdim),
  max: ([a], { axis, keepdim }) => max(a!, axis!, keepdim),
  argmax: ([a], { axis, keepdim }) => argmax(a!, axis!, keepdim),
  softmax: ([a, mask], { axis, scale }) => softmax(a!, axis, { scale, mask }),
  logSoftmax: ([a, mask], { axis, scale }) => logSoftmax(a!, axis, { scale, mask }),
  matmul: ([a, b]) => matmul(a!, b!),
  embedding: ([weight, ids]) => embedding(weight!, ids!),
  layerNorm: ([a, gamma, beta], { eps }) => layerNorm(a!, gamma!, beta!, eps),
  crossEntropy: ([logits, targets], { ignoreIndex, labelSmoothing }) => crossEntropy(logits!, targets!, { ignoreIndex, labelSmoothing }),
  concat: (xs, { axis }) => concat(xs, axis),
  stack: (xs, { axis }) => stack(xs, axis),
  split: ([a], { sizes, axis }) => split(a!, sizes!, axis),
};

/** Asserts shape and values within atol + rtol * |expected| (equal infinities and NaN positions match exactly). */
function assertClose(actual: Tensor, expected: SafetensorsTensor, what: string, rtol = RTOL): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const got = actual.toArray();
  assert.equal(got instanceof Int32Array, expected.data instanceof Int32Array, `${what}: dtype`);
  for (let i = 0; i < got.length; i++) {
    const a = got[i]!;
    const b = expected.data[i]!;
    const ok = a === b || (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= ATOL + rtol * Math.abs(b);
    if (!ok) assert.fail(`${what}: element ${i} is ${a}, PyTorch ${b} (|diff| ${Math.abs(a - b)})`);
  }
}

/** Loads one fixture, runs the op forward and backward, and compares everything with PyTorch. */
function checkFixture(file: string): void {
  const { tensors, metadata } = loadSafetensors(new URL(file, DIR).pathname);
  const get = (name: string): SafetensorsTensor => {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`${file}: no tensor '${name}'`);
    return t;
  };
  const opName = metadata.get('op')!;
  const op = OPS[opName];
  if (op === undefined) throw new Error(`${file}: unknown op '${opName}'`);
  const args = JSON.parse(metadata.get('args')!) as Args;
  const names = JSON.parse(metadata.get('inputs')!) as string[];
  const gradNames = JSON.parse(metadata.get('grads')!) as string[];
  const rtol = Number(metadata.get('rtol') ?? RTOL);
  tidy(() => {
    const leaves = new Map<string, Tensor>();
    const inputs = names.map((name) => {
      const raw = get(`x.${name}`);
      const leaf = tensor(raw.data, raw.shape, raw.data instanceof Int32Array ? 'int32' : 'float32');
      if (gradNames.includes(name)) leaf.requireGrad();
      leaves.set(name, leaf);
      return args.transpose?.includes(name) ? leaf.transpose(-2, -1) : leaf;
    });
    const result = op(inputs, args);
    const outs = Array.isArray(result) ? result : [result];
    outs.forEach((y, i) => assertClose(y, get(`y.${i}`), `${file} output ${i}`, rtol));
    if (gradNames.length === 0) return;
    const weighted = outs.flatMap((y, i) => (tensors.has(`dy.${i}`) ? [{ y, dy: get(`dy.${i}`) }] : []));
    const dys = weighted.map(({ dy }) => tensor(dy.data, dy.shape));
    if (weighted.length === 1) weighted[0]!.y.backward(dys[0]);
    else weighted.map(({ y }, i) => sum(mul(y, dys[i]!))).reduce((p, q) => add(p, q)).backward();
    for (const name of gradNames) {
      const grad = leaves.get(name)!.grad;
      assert.ok(grad !== null, `${file}: no gradient for ${name}`);
      assertClose(grad, get(`grad.${name}`), `${file} gradient of ${name}`, rtol);
    }
  });
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.safetensors')).sort();

test('the golden files cover every op', () => {
  assert.ok(files.length >= 40, `only ${files.length} fixtures`);
  const covered = new Set(files.map((f) => loadSafetensors(new URL(f, DIR).pathname).metadata.get('op')));
  assert.deepEqual([...Object.keys(OPS)].filter((op) => !covered.has(op)), []);
});

for (const backend of availableBackends()) {
  describe(`PyTorch golden files on the ${backend} backend`, () => {
    for (const file of files) {
      test(file.replace('.safetensors', ''), () => {
        setBackend(backend);
        checkFixture(file);
      });
    }
  });
}
