#!/usr/bin/env python3
"""Writes PyTorch reference results ("golden files") in the safetensors format, for tests that must not need torch.

  test/fixtures/ops/<case>.safetensors   one file per op case (test/torch-ops.test.ts reads them):
      x.<name>     the inputs (float32; integer inputs such as ids and targets as int64, as torch holds them)
      y.<i>        the outputs, float32 (argmax: int64)
      dy.<i>       random weights w_i of the linear functional L = sum_i sum(y_i * w_i)
      grad.<name>  dL/dx for every float input listed in the metadata key "grads"
    metadata: op (the aiayn op the test runs), args (JSON: axes, keepdim, axis, scale, eps, ...),
              inputs (JSON list of input names, in call order), grads (JSON list), torch (version),
              rtol (only where float32 cannot meet the default 1e-5; see layer_norm_offset).
    args.transpose lists inputs that are stored as [..., n, m] and used as x.transpose(-2, -1), so strided
    (non-contiguous) operands are exercised; their gradients are w.r.t. the stored tensor.
  test/fixtures/io/dtypes.safetensors    the same values stored as F16, BF16, I64 and as F32/I32, to check the
                                         reader's widening and narrowing (specials included: +-inf, NaN, -0,
                                         F16 subnormals and 65504, I64 at the int32 limits).

Inputs are drawn as float32 from a torch.Generator seeded per case (crc32 of the case name), so every run
writes identical bytes. The reference is computed in float64 from those float32 inputs and stored rounded
to float32: it is the exact answer to within float32 rounding, the target both backends should meet.
The safetensors files are written by hand (8-byte little-endian header length, JSON header, raw
little-endian data); the `safetensors` package is not needed.

Run with: /usr/bin/python3 scripts/make-fixtures.py   (PyTorch 1.13, CPU)
"""
import json
import os
import struct
import sys
import zlib

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')
DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int32: 'I32', torch.int64: 'I64'}


def save_safetensors(path, tensors, metadata):
    """Writes {name: tensor} and {str: str} metadata as a safetensors file (header padded to 8 bytes)."""
    assert sys.byteorder == 'little'
    header = {'__metadata__': metadata} if metadata else {}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() > 0 else b''
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


class Case:
    """Draws the inputs of one case from its own seeded generator."""

    def __init__(self, name):
        self.name = name
        self.gen = torch.Generator().manual_seed(zlib.crc32(name.encode()))

    def randn(self, *shape):
        return torch.randn(shape, generator=self.gen)

    def positive(self, *shape, low=0.5, high=2.0):
        return low + (high - low) * torch.rand(shape, generator=self.gen)

    def away_from_zero(self, *shape):
        """Values with |x| >= 0.5 (divisors, and inputs of functions with a kink at 0)."""
        x = self.randn(*shape)
        return torch.where(x < 0, x - 0.5, x + 0.5)

    def mask(self, *shape):
        """A 0/1 float mask."""
        return (torch.rand(shape, generator=self.gen) < 0.5).float()

    def ints(self, high, *shape):
        return torch.randint(0, high, shape, generator=self.gen, dtype=torch.int64)


def write_case(name, op, inputs, fn, args=None, grads=None, rtol=None):
    """Runs fn on float64 copies of the inputs, then stores inputs, outputs, weights and gradients.

    rtol (metadata) loosens the test's relative tolerance for a case that float32 cannot meet at 1e-5.
    """
    case = Case(name + '/weights')
    args = dict(args or {})
    float_names = [n for n, t in inputs.items() if t.dtype == torch.float32]
    grads = float_names if grads is None else grads
    work = {}
    for n, t in inputs.items():
        w = t.double() if t.dtype == torch.float32 else t.clone()
        work[n] = w.requires_grad_(True) if n in grads else w
    used = {n: (w.transpose(-2, -1) if n in args.get('transpose', []) else w) for n, w in work.items()}
    out = fn(used, args)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    tensors = {f'x.{n}': t for n, t in inputs.items()}
    weights = []
    for i, y in enumerate(outs):
        tensors[f'y.{i}'] = y.detach().float() if y.is_floating_point() else y.detach()
        if y.is_floating_point():
            weights.append(case.randn(*y.shape))
            tensors[f'dy.{i}'] = weights[-1]
    if grads:
        float_outs = [y for y in outs if y.is_floating_point()]
        got = torch.autograd.grad(float_outs, [work[n] for n in grads], [w.double() for w in weights])
        for n, g in zip(grads, got):
            tensors[f'grad.{n}'] = g.float()
    metadata = {'op': op, 'args': json.dumps(args), 'inputs': json.dumps(list(inputs)), 'grads': json.dumps(grads),
                'torch': torch.__version__}
    if rtol is not None:
        metadata['rtol'] = repr(rtol)
    save_safetensors(os.path.join(ROOT, 'ops', name + '.safetensors'), tensors, metadata)


def binary_cases():
    c = Case('binary')
    write_case('add_broadcast', 'add', {'a': c.randn(2, 3, 4), 'b': c.randn(3, 1)}, lambda x, _: x['a'] + x['b'])
    write_case('add_transposed', 'add', {'a': c.randn(3, 4), 'b': c.randn(4, 3)}, lambda x, _: x['a'] + x['b'],
               {'transpose': ['b']})
    write_case('sub_broadcast', 'sub', {'a': c.randn(4), 'b': c.randn(2, 3, 4)}, lambda x, _: x['a'] - x['b'])
    write_case('mul_broadcast', 'mul', {'a': c.randn(2, 1, 4), 'b': c.randn(3, 1)}, lambda x, _: x['a'] * x['b'])
    write_case('div_broadcast', 'div', {'a': c.randn(2, 3), 'b': c.away_from_zero(2, 1)}, lambda x, _: x['a'] / x['b'])
    write_case('pow_tensor', 'pow', {'a': c.positive(2, 3), 'b': c.positive(3, low=-1.5, high=2.5)},
               lambda x, _: torch.pow(x['a'], x['b']))
    write_case('pow_scalar', 'pow', {'a': c.randn(2, 3)}, lambda x, a: torch.pow(x['a'], a['exponent']), {'exponent': 3})
    write_case('maximum_broadcast', 'maximum', {'a': c.randn(3, 4), 'b': c.randn(4)},
               lambda x, _: torch.maximum(x['a'], x['b']))


def unary_cases():
    c = Case('unary')
    plain = {'exp': torch.exp, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid, 'neg': torch.neg}
    for op, fn in plain.items():
        write_case(op, op, {'a': c.randn(3, 5)}, lambda x, _, fn=fn: fn(x['a']))
    for op, fn in {'log': torch.log, 'sqrt': torch.sqrt}.items():
        write_case(op, op, {'a': c.positive(3, 5, low=0.1, high=3.0)}, lambda x, _, fn=fn: fn(x['a']))
    for op, fn in {'relu': torch.relu, 'abs': torch.abs}.items():
        write_case(op, op, {'a': c.away_from_zero(3, 5)}, lambda x, _, fn=fn: fn(x['a']))
    write_case('gelu_erf', 'gelu', {'a': 2 * c.randn(3, 5)}, lambda x, a: F.gelu(x['a'], approximate=a['approximate']),
               {'approximate': 'none'})
    write_case('gelu_tanh', 'gelu', {'a': 2 * c.randn(3, 5)}, lambda x, a: F.gelu(x['a'], approximate=a['approximate']),
               {'approximate': 'tanh'})
    write_case('tanh_transposed', 'tanh', {'a': c.randn(5, 3)}, lambda x, _: torch.tanh(x['a']), {'transpose': ['a']})


def select_cases():
    c = Case('select')
    write_case('where_broadcast', 'where', {'cond': c.mask(3, 1), 'a': c.randn(3, 4), 'b': c.randn(4)},
               lambda x, _: torch.where(x['cond'].bool(), x['a'], x['b']), grads=['a', 'b'])
    write_case('masked_fill', 'maskedFill', {'a': c.randn(2, 3, 4), 'mask': c.mask(3, 1)},
               lambda x, a: x['a'].masked_fill(x['mask'].bool(), a['value']), {'value': -2.5}, grads=['a'])


def reduce_cases():
    c = Case('reduce')

    def sum_(x, a):
        return x['a'].sum() if a['axes'] is None else x['a'].sum(dim=a['axes'], keepdim=a['keepdim'])

    def mean_(x, a):
        return x['a'].mean(dim=a['axes'], keepdim=a['keepdim'])

    write_case('sum_axes_keepdim', 'sum', {'a': c.randn(2, 3, 4)}, sum_, {'axes': [0, 2], 'keepdim': True})
    write_case('sum_all', 'sum', {'a': c.randn(2, 3, 4)}, sum_, {'axes': None, 'keepdim': False})
    write_case('sum_last', 'sum', {'a': c.randn(2, 3, 4)}, sum_, {'axes': [-1], 'keepdim': False})
    write_case('sum_transposed', 'sum', {'a': c.randn(2, 4, 3)}, sum_, {'axes': [1], 'keepdim': False, 'transpose': ['a']})
    write_case('mean_axis', 'mean', {'a': c.randn(2, 3, 4)}, mean_, {'axes': [1], 'keepdim': False})
    write_case('mean_axes_keepdim', 'mean', {'a': c.randn(2, 3, 4)}, mean_, {'axes': [0, 2], 'keepdim': True})
    max_ = lambda x, a: x['a'].max(dim=a['axis'], keepdim=a['keepdim']).values  # noqa: E731
    write_case('max_keepdim', 'max', {'a': c.randn(2, 3, 4)}, max_, {'axis': 1, 'keepdim': True})
    write_case('max_last', 'max', {'a': c.randn(2, 3, 4)}, max_, {'axis': -1, 'keepdim': False})
    # Ties: amax splits the gradient evenly among tied maxima; argmax returns the first of them.
    ties = torch.tensor([[[1.0, 3.0, 3.0, -1.0], [2.0, 0.5, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0]]])
    amax_ = lambda x, a: x['a'].amax(dim=a['axis'], keepdim=a['keepdim'])  # noqa: E731
    write_case('max_ties', 'max', {'a': ties}, amax_, {'axis': -1, 'keepdim': False})
    argmax_ = lambda x, a: x['a'].argmax(dim=a['axis'], keepdim=a['keepdim'])  # noqa: E731
    write_case('argmax_axis', 'argmax', {'a': c.randn(2, 3, 4)}, argmax_, {'axis': 1, 'keepdim': False}, grads=[])
    write_case('argmax_keepdim', 'argmax', {'a': c.randn(2, 3, 4)}, argmax_, {'axis': 0, 'keepdim': True}, grads=[])
    write_case('argmax_ties', 'argmax', {'a': ties}, argmax_, {'axis': -1, 'keepdim': True}, grads=[])


def softmax_cases():
    c = Case('softmax')

    def masked(fn):
        def run(x, a):
            z = x['a'] * a.get('scale', 1.0)
            if 'mask' in x:
                z = z + x['mask']
            return fn(z, dim=a['axis'])
        return run

    # Additive mask: 0 or -inf, at least one finite entry per row.
    mask = torch.where(c.mask(3, 5).bool(), float('-inf'), 0.0)
    mask[:, 0] = 0.0
    causal = torch.triu(torch.full((4, 4), float('-inf')), diagonal=1).reshape(1, 1, 4, 4)
    for op, fn in [('softmax', F.softmax), ('logSoftmax', F.log_softmax)]:
        stem = 'softmax' if op == 'softmax' else 'log_softmax'
        write_case(f'{stem}_mask_scale', op, {'a': c.randn(2, 3, 5), 'mask': mask}, masked(fn),
                   {'axis': -1, 'scale': 0.7}, grads=['a'])
        write_case(f'{stem}_causal', op, {'a': c.randn(2, 2, 4, 4), 'mask': causal}, masked(fn),
                   {'axis': -1, 'scale': 0.5}, grads=['a'])
        write_case(f'{stem}_axis1', op, {'a': c.randn(2, 4, 3)}, masked(fn), {'axis': 1})


def matmul_cases():
    c = Case('matmul')
    mm = lambda x, _: torch.matmul(x['a'], x['b'])  # noqa: E731
    write_case('matmul_broadcast_bt', 'matmul', {'a': c.randn(2, 1, 3, 4), 'b': c.randn(3, 5, 4)}, mm, {'transpose': ['b']})
    write_case('matmul_weight', 'matmul', {'a': c.randn(2, 3, 4), 'b': c.randn(4, 5)}, mm)
    write_case('matmul_at', 'matmul', {'a': c.randn(4, 3), 'b': c.randn(2, 4, 5)}, mm, {'transpose': ['a']})
    write_case('matmul_attention', 'matmul', {'a': c.randn(2, 2, 3, 4), 'b': c.randn(2, 2, 3, 4)}, mm, {'transpose': ['b']})


def nn_cases():
    c = Case('nn')
    write_case('embedding', 'embedding', {'weight': c.randn(7, 4), 'ids': torch.tensor([[1, 3, 1], [6, 0, 3]])},
               lambda x, _: F.embedding(x['ids'], x['weight']))
    ln = lambda x, a: F.layer_norm(x['a'], (x['a'].shape[-1],), x['weight'], x['bias'], a['eps'])  # noqa: E731
    write_case('layer_norm', 'layerNorm', {'a': c.randn(2, 3, 6), 'weight': c.positive(6), 'bias': c.randn(6)}, ln, {'eps': 1e-5})
    # Mean 5, std 0.1: a naive E[x^2] - E[x]^2 variance fails here. Float32 cannot meet rtol 1e-5 on this case:
    # rounding the saved per-row mean to float32 alone moves dL/dx by ~5e-6, and torch's own float32 kernel is
    # off from this float64 reference by up to 6e-5 (gradient) and 4x the 1e-5 tolerance (forward).
    write_case('layer_norm_offset', 'layerNorm', {'a': 5 + 0.1 * c.randn(4, 8), 'weight': c.randn(8), 'bias': c.randn(8)},
               ln, {'eps': 1e-6}, rtol=1e-4)

    def ce(x, a):
        v = x['logits'].shape[-1]
        return F.cross_entropy(x['logits'].reshape(-1, v), x['targets'].reshape(-1), ignore_index=a['ignoreIndex'],
                               label_smoothing=a['labelSmoothing'])

    targets = c.ints(7, 2, 4)
    targets[0, 3] = targets[1, 1] = -100
    write_case('cross_entropy_ignore', 'crossEntropy', {'logits': 2 * c.randn(2, 4, 7), 'targets': targets}, ce,
               {'ignoreIndex': -100, 'labelSmoothing': 0.1})
    write_case('cross_entropy_pad', 'crossEntropy', {'logits': c.randn(5, 6), 'targets': torch.tensor([3, 0, 5, 1, 0])}, ce,
               {'ignoreIndex': 0, 'labelSmoothing': 0.1})


def join_cases():
    c = Case('join')
    write_case('concat_axis1', 'concat', {'a': c.randn(2, 3), 'b': c.randn(2, 1), 'c': c.randn(2, 2)},
               lambda x, a: torch.cat([x['a'], x['b'], x['c']], dim=a['axis']), {'axis': 1})
    write_case('concat_axis0_transposed', 'concat', {'a': c.randn(1, 2, 3), 'b': c.randn(2, 3, 2)},
               lambda x, a: torch.cat([x['a'], x['b']], dim=a['axis']), {'axis': 0, 'transpose': ['b']})
    write_case('stack_axis1', 'stack', {'a': c.randn(2, 3), 'b': c.randn(2, 3), 'c': c.randn(2, 3)},
               lambda x, a: torch.stack([x['a'], x['b'], x['c']], dim=a['axis']), {'axis': 1})
    write_case('stack_last', 'stack', {'a': c.randn(2, 3), 'b': c.randn(2, 3)},
               lambda x, a: torch.stack([x['a'], x['b']], dim=a['axis']), {'axis': -1})
    write_case('split_axis0', 'split', {'a': c.randn(5, 3)},
               lambda x, a: torch.split(x['a'], a['sizes'], dim=a['axis']), {'sizes': [2, 3], 'axis': 0})
    write_case('split_last', 'split', {'a': c.randn(2, 6)},
               lambda x, a: torch.split(x['a'], a['sizes'], dim=a['axis']), {'sizes': [1, 2, 3], 'axis': -1})


def dtype_fixture():
    """The same values in every dtype the reader widens or narrows, next to their exact F32/I32 form."""
    c = Case('dtypes')
    specials = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 6.103515625e-05, 5.960464477539063e-08, -3.0517578125e-05,
                             float('inf'), float('-inf'), float('nan')])
    f16 = torch.cat([specials, c.randn(13)]).half()
    bf16 = torch.cat([specials, torch.tensor([3.0e38, 1.0e-38, -9.2e-41]), c.randn(13)]).bfloat16()
    i64 = torch.tensor([0, 1, -1, 2147483647, -2147483648, 123456789, -7], dtype=torch.int64).reshape(7, 1)
    tensors = {
        'f16': f16.reshape(4, 6), 'f16_as_f32': f16.float().reshape(4, 6),
        'bf16': bf16, 'bf16_as_f32': bf16.float(),
        'i64': i64, 'i64_as_i32': i64.int(),
        'empty_f16': torch.zeros(0, 3, dtype=torch.float16),
    }
    save_safetensors(os.path.join(ROOT, 'io', 'dtypes.safetensors'), tensors, {'torch': torch.__version__})


def main():
    os.makedirs(os.path.join(ROOT, 'ops'), exist_ok=True)
    os.makedirs(os.path.join(ROOT, 'io'), exist_ok=True)
    for make in [binary_cases, unary_cases, select_cases, reduce_cases, softmax_cases, matmul_cases, nn_cases, join_cases,
                 dtype_fixture]:
        make()


if __name__ == '__main__':
    main()
