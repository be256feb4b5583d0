import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Linear } from '../src/nn/linear.js';
import { Module, ModuleList } from '../src/nn/module.js';
import { Dropout } from '../src/nn/dropout.js';
import { LayerNorm } from '../src/nn/layernorm.js';
import { tensor, zeros } from '../src/tensor/index.js';
import type { Tensor } from '../src/tensor/index.js';

class Block extends Module {
  readonly proj: Linear;
  readonly norm: LayerNorm;
  readonly drop: Dropout;
  readonly scale: Tensor;
  constructor() {
    super();
    this.proj = this.addModule('proj', new Linear(3, 2));
    this.norm = this.addModule('norm', new LayerNorm(2));
    this.drop = this.addModule('drop', new Dropout(0.5));
    this.scale = this.addParameter('scale', zeros([2]));
    this.addBuffer('steps', zeros([1]));
    this.addBuffer('cache', zeros([4]), false);
  }
}

class Net extends Module {
  readonly blocks = this.addModule('blocks', new ModuleList([new Block(), new Block()]));
  readonly head = this.addModule('head', new Linear(2, 1, { bias: false }));
}

test('named parameters walk children with dotted names in registration order', () => {
  const net = new Net();
  const names = net.namedParameters().map(([n]) => n);
  assert.deepEqual(names, [
    'blocks.0.scale', 'blocks.0.proj.weight', 'blocks.0.proj.bias', 'blocks.0.norm.weight', 'blocks.0.norm.bias',
    'blocks.1.scale', 'blocks.1.proj.weight', 'blocks.1.proj.bias', 'blocks.1.norm.weight', 'blocks.1.norm.bias',
    'head.weight',
  ]);
  assert.ok(net.parameters().every((p) => p.requiresGrad));
  assert.deepEqual(net.blocks.items[0]!.proj.weight.shape, [2, 3], 'PyTorch layout [out, in]');
  assert.deepEqual([...net.stateDict().keys()].filter((n) => n.includes('steps') || n.includes('cache')), ['blocks.0.steps', 'blocks.1.steps']);
});

test('train() and eval() reach every child', () => {
  const net = new Net().eval();
  assert.equal(net.blocks.items[1]!.drop.training, false);
  const x = tensor([[1, 2]]);
  assert.equal(net.blocks.items[1]!.drop.forward(x), x, 'dropout is the identity in eval mode');
  net.train();
  assert.equal(net.blocks.items[0]!.drop.training, true);
});

test('loadStateDict copies values and reports missing, unexpected and mis-shaped names', () => {
  const a = new Net();
  const b = new Net();
  b.loadStateDict(a.stateDict());
  for (const [n, t] of a.stateDict()) assert.deepEqual(Array.from(b.stateDict().get(n)!.toArray()), Array.from(t.toArray()), n);

  const dict = new Map(a.stateDict());
  dict.delete('head.weight');
  dict.set('extra.weight', zeros([1]));
  dict.set('blocks.0.scale', zeros([3]));
  assert.throws(() => b.loadStateDict(dict), (e: Error) =>
    /missing: head\.weight/.test(e.message) && /unexpected: extra\.weight/.test(e.message)
    && /mis-shaped: blocks\.0\.scale \(expected \[2\], got \[3\]\)/.test(e.message));
  dict.set('blocks.0.scale', zeros([2]));
  b.loadStateDict(dict, { strict: false });
  assert.throws(() => b.loadStateDict(new Map([['head.weight', zeros([2, 2])]]), { strict: false }), /mis-shaped: head\.weight/);
});

test('duplicate and dotted names are refused', () => {
  class Bad extends Module {
    constructor(name: string) { super(); this.addParameter('w', zeros([1])); this.addParameter(name, zeros([1])); }
  }
  assert.throws(() => new Bad('w'), /already registered/);
  assert.throws(() => new Bad('a.b'), /invalid name/);
});
