import { tensor, matmul, crossEntropy, getBackend } from 'aiayn';

// A 2-layer perceptron on one batch: forward, loss, backward.
const x = tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]]);             // (2, 3)
const w1 = tensor([[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]]).requireGrad(); // (3, 2)
const w2 = tensor([[1.0, -1.0, 0.5], [0.5, 0.25, -0.75]]).requireGrad(); // (2, 3)
const logits = matmul(matmul(x, w1).relu(), w2);                       // (2, 3)
const loss = crossEntropy(logits, tensor([2, 0], [2], 'int32'), { labelSmoothing: 0.1 });
loss.backward();
console.log('backend:', getBackend().name);
console.log('loss:', loss.item().toFixed(6));
console.log('dL/dw1:', w1.grad.toNested());
