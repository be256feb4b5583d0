"""PyTorch's side of `npm run bench:vs-torch -- --model gpt2` (bench/gpt2.ts): the same GPT-2 124M shape, written
nanoGPT-style with Hugging Face's names (the model of scripts/make-gpt2-fixtures.py), random weights; times
training steps (next-token loss, backward, clip 1, AdamW) and greedy generation with a key/value cache (each
block's keys and values concatenated per step, as Hugging Face's past_key_values), and prints one JSON line.
Spec as argv[1]; threads from OMP_NUM_THREADS."""
import importlib.util
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

spec_path = Path(__file__).resolve().parent.parent / "scripts" / "make-gpt2-fixtures.py"
module_spec = importlib.util.spec_from_file_location("gpt2_fixtures", spec_path)
fixtures = importlib.util.module_from_spec(module_spec)
module_spec.loader.exec_module(fixtures)


def cached_logits(model, ids, cache):
    """Logits of the last position of ids (1, t) after the cached positions; returns them and the new cache."""
    tr = model.transformer
    past = 0 if not cache else cache[0][0].shape[2]
    t = ids.shape[1]
    x = tr.wte(ids) + tr.wpe(torch.arange(past, past + t))
    new_cache = []
    for i, block in enumerate(tr.h):
        h = block.ln_1(x)
        d = h.shape[2]
        heads = block.attn.heads
        q, k, v = (z.view(1, t, heads, d // heads).transpose(1, 2) for z in block.attn.c_attn(h).split(d, dim=2))
        if cache:
            k = torch.cat([cache[i][0], k], dim=2)
            v = torch.cat([cache[i][1], v], dim=2)
        new_cache.append((k, v))
        w = (q @ k.transpose(-1, -2)) / math.sqrt(d // heads)
        if t > 1:
            w = w.masked_fill(torch.ones(t, past + t).triu(past + 1).bool(), float("-inf"))
        x = x + block.attn.c_proj((w.softmax(-1) @ v).transpose(1, 2).reshape(1, t, d))
        x = x + block.mlp(block.ln_2(x))
    return tr.ln_f(x)[:, -1] @ tr.wte.weight.T, new_cache


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.manual_seed(1)
    cfg = dict(n_layer=12, n_head=12, n_embd=768, n_positions=1024, layer_norm_epsilon=1e-5, vocab_size=50257)
    model = fixtures.LMHeadModel(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, 0.02)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=1e-4, betas=(0.9, 0.95), eps=1e-8)
    b, t = spec["batch"], spec["context"]
    ids = torch.randint(0, 50257, (b, t + 1))
    x, y = ids[:, :-1], ids[:, 1:]

    def step():
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        loss.item()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(spec["warmup"]):
        step()
    t0 = time.perf_counter()
    for _ in range(spec["steps"]):
        step()
    ms_per_step = (time.perf_counter() - t0) * 1000 / spec["steps"]

    prompt = torch.randint(0, 50257, (1, spec["prompt"]))

    def greedy(new_tokens):
        with torch.no_grad():
            logits, cache = cached_logits(model, prompt, None)
            for i in range(new_tokens):
                nxt = logits.argmax(-1, keepdim=True)
                if i + 1 < new_tokens:
                    logits, cache = cached_logits(model, nxt, cache)

    greedy(4)
    t0 = time.perf_counter()
    greedy(spec["newTokens"])
    generate_ms = (time.perf_counter() - t0) * 1000
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"ms_per_step": ms_per_step, "tokens_per_s": b * t / (ms_per_step / 1000), "generate_ms": generate_ms,
                      "new_tokens": spec["newTokens"], "rss_mb": rss_mb}))


if __name__ == "__main__":
    main()
