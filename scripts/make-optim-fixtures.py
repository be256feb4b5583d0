#!/usr/bin/env python3
"""Writes test/fixtures/optim/*.json: reference results of the training recipe from PyTorch 1.13 (CPU, float32).

  optimizers.json  torch.optim.Adam(betas=(0.9, 0.98), eps=1e-9) with a per-step lr (the §5.3 schedule),
                   AdamW(weight_decay=0.01) and Adam(weight_decay=0.01) (L2), on three parameters of sizes
                   1, 7 and 33 with fixed gradients for 5 steps (the size-7 parameter has no gradient at step 3);
                   the parameters after every step.
  clip.json        torch.nn.utils.clip_grad_norm_ on gradients of the same sizes: returned norm, clipped grads.
  loss.json        F.cross_entropy(label_smoothing=0.1, ignore_index=pad): value and gradient w.r.t. the logits.

Run with: /usr/bin/python3 scripts/make-optim-fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'optim')
SIZES = [1, 7, 33]
GRAD_SCALES = [1.0, 0.01, 0.1]  # small gradients make the L2 term visible in Adam's normalised update
STEPS = 5
MISSING = (1, 2)  # (parameter, step): this gradient is None, so torch skips the parameter on that step


def flat(t):
    """Float32 values as JSON numbers (each float32 is exactly representable as a double)."""
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def noam(step, d_model, warmup, factor):
    """lrate = factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5) (paper §5.3, eq. 3)."""
    return factor * d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


def make_inputs(gen):
    params = [torch.randn(n, generator=gen) for n in SIZES]
    grads = [[None if (i, s) == MISSING else torch.randn(n, generator=gen) * GRAD_SCALES[i] for i, n in enumerate(SIZES)]
             for s in range(STEPS)]
    return params, grads


def run_case(name, make_opt, lrs, init, grads, weight_decay):
    params = [p.clone().requires_grad_(True) for p in init]
    opt = make_opt(params)
    after = []
    for s in range(STEPS):
        for group in opt.param_groups:
            group['lr'] = lrs[s]
        for p, g in zip(params, grads[s]):
            p.grad = None if g is None else g.clone()
        opt.step()
        after.append([flat(p) for p in params])
    return {'name': name, 'weightDecay': weight_decay, 'lrs': lrs, 'after': after}


def optimizers():
    gen = torch.Generator().manual_seed(1234)
    init, grads = make_inputs(gen)
    schedule = {'dModel': 16, 'warmup': 3, 'factor': 1.0}
    noam_lrs = [noam(s + 1, schedule['dModel'], schedule['warmup'], schedule['factor']) for s in range(STEPS)]
    const_lrs = [0.01] * STEPS
    betas, eps = (0.9, 0.98), 1e-9
    cases = [
        run_case('adam', lambda ps: torch.optim.Adam(ps, lr=noam_lrs[0], betas=betas, eps=eps), noam_lrs, init, grads, 0.0),
        run_case('adamw', lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=betas, eps=eps, weight_decay=0.01),
                 const_lrs, init, grads, 0.01),
        run_case('adam-l2', lambda ps: torch.optim.Adam(ps, lr=0.01, betas=betas, eps=eps, weight_decay=0.01),
                 const_lrs, init, grads, 0.01),
    ]
    return {
        'torch': torch.__version__, 'betas': list(betas), 'eps': eps, 'schedule': schedule,
        'init': [flat(p) for p in init],
        'grads': [[None if g is None else flat(g) for g in step] for step in grads],
        'cases': cases,
    }


def clip():
    gen = torch.Generator().manual_seed(99)
    grads = [torch.randn(n, generator=gen) for n in SIZES]
    cases = []
    for max_norm in [1.0, 100.0]:
        params = [torch.zeros(n, requires_grad=True) for n in SIZES]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        cases.append({'maxNorm': max_norm, 'norm': float(norm), 'clipped': [flat(p.grad) for p in params]})
    return {'torch': torch.__version__, 'grads': [flat(g) for g in grads], 'cases': cases}


def loss():
    gen = torch.Generator().manual_seed(7)
    batch, length, vocab, pad, eps = 2, 4, 6, 0, 0.1
    logits = torch.randn(batch, length, vocab, generator=gen).requires_grad_(True)
    targets = torch.tensor([[3, 1, 5, 0], [2, 0, 0, 0]], dtype=torch.long)
    value = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1), ignore_index=pad, label_smoothing=eps)
    value.backward()
    return {
        'torch': torch.__version__, 'shape': [batch, length, vocab], 'padId': pad, 'eps': eps,
        'logits': flat(logits), 'targets': targets.reshape(-1).tolist(), 'loss': float(value), 'grad': flat(logits.grad),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, make in [('optimizers', optimizers), ('clip', clip), ('loss', loss)]:
        with open(os.path.join(OUT, name + '.json'), 'w') as f:
            json.dump(make(), f)
            f.write('\n')


if __name__ == '__main__':
    main()
