import { Transformer, makeConfig, tensor, lossAndGrads, noGrad } from 'aiayn';

// A small model (the `tiny` preset with a 100-token vocabulary); pad id 0.
const model = new Transformer(makeConfig('tiny', { srcVocab: 100, tgtVocab: 100, finalNorm: true, seed: 1 })).eval();
const src = tensor([[5, 6, 7, 2], [8, 9, 2, 0]], [2, 4], 'int32');     // (B, S), padded with 0
const tgtIn = tensor([[1, 10, 11], [1, 12, 0]], [2, 3], 'int32');      // (B, T): bos + target
const tgtOut = tensor([[10, 11, 2], [12, 2, 0]], [2, 3], 'int32');     // (B, T): target + eos

const logits = noGrad(() => model.forward(src, tgtIn, 0));             // (B, T, V); 0 = pad id
console.log('logits', logits.shape, logits.toArray().slice(0, 3));

const { loss, grads } = await lossAndGrads(model, src, tgtIn, tgtOut, { labelSmoothing: 0.1, padId: 0 });
console.log('loss', loss.toFixed(4), '| gradients for', grads.size, 'parameters, e.g.',
  'generator.bias', grads.get('generator.bias').shape);
