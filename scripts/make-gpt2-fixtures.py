"""Writes the GPT-2 parity fixtures (test/fixtures/gpt2-tiny/ and test/fixtures/gpt1-tiny.safetensors).

The reference is a minimal GPT-2 (Radford et al. 2019 §2.3) written in PyTorch with Hugging Face's module names and
layouts, since `transformers` is not installed here: Conv1D layers store their weight as (in, out) and compute
x @ W + b; each block is x + attn(ln_1(x)), then x + mlp(ln_2(x)); attention is causal through the `attn.bias`
buffer (lower-triangular (1, 1, n_ctx, n_ctx), persistent and float32 as in the published gpt2 checkpoint) and `attn.masked_bias`; the MLP
is c_fc, GELU (tanh approximation, "gelu_new"), c_proj; ln_f follows the last block; lm_head is tied to wte.
GPT-1's post-LN block (Radford et al. 2018), x = ln_1(x + attn(x)), then ln_2(x + mlp(x)), without ln_f, is the
same code with post_ln=True.

gpt2-tiny/ is a checkpoint directory as `save_pretrained` writes it: config.json with HF keys, model.safetensors
(names under `transformer.`, the attention buffers included, lm_head.weight left out because it is tied),
vocab.json + merges.txt (byte-level BPE: the 256 byte tokens, a few merges, <|endoftext|>). gpt2-tiny/reference
.safetensors holds `input.ids` and `input.targets` (int32, right-padded with <|endoftext|>, targets -100 there),
`expected.logits` [B, T, V], `expected.loss` [1] (mean next-token cross entropy, ignore_index -100) and
`grad.<name>` for every parameter under its HF name. gpt1-tiny.safetensors holds the post-LN model's weights
(GPT-2 names, no ln_f) and the same inputs and expectations. Weights are random and larger than GPT-2's
initialisation (so that no term is negligible); everything is computed in float64 and stored as float32.

Run: /usr/bin/python3 scripts/make-gpt2-fixtures.py (PyTorch 1.13, CPU).
"""
import json
import math
import struct
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures"
CONFIG = dict(n_layer=2, n_head=2, n_embd=16, n_positions=16, layer_norm_epsilon=1e-5, activation_function="gelu_new")
MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ġ", "a"), ("i", "n"), ("e", "r"), ("o", "u")]


def bytes_to_unicode():
    """GPT-2's printable stand-in for each byte (the alphabet of vocab.json and merges.txt)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]  # in bs order: GPT-2's vocab.json lists the byte tokens in this order


class Conv1D(nn.Module):
    """HF's Conv1D: weight (in, out), y = x @ W + b."""

    def __init__(self, n_out, n_in):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class Attention(nn.Module):
    def __init__(self, d, heads, n_ctx):
        super().__init__()
        self.heads = heads
        self.register_buffer("bias", torch.tril(torch.ones(n_ctx, n_ctx)).view(1, 1, n_ctx, n_ctx))
        self.register_buffer("masked_bias", torch.tensor(-1e4))
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        w = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.heads)
        w = w.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
        y = (w.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        return self.c_proj(y)


class Mlp(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.c_fc = Conv1D(4 * d, d)
        self.c_proj = Conv1D(d, 4 * d)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, cfg, post_ln):
        super().__init__()
        d, eps = cfg["n_embd"], cfg["layer_norm_epsilon"]
        self.post_ln = post_ln
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = Attention(d, cfg["n_head"], cfg["n_positions"])
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = Mlp(d)

    def forward(self, x):
        if self.post_ln:
            x = self.ln_1(x + self.attn(x))
            return self.ln_2(x + self.mlp(x))
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, cfg, post_ln):
        super().__init__()
        self.wte = nn.Embedding(cfg["vocab_size"], cfg["n_embd"])
        self.wpe = nn.Embedding(cfg["n_positions"], cfg["n_embd"])
        self.h = nn.ModuleList([Block(cfg, post_ln) for _ in range(cfg["n_layer"])])
        self.ln_f = None if post_ln else nn.LayerNorm(cfg["n_embd"], eps=cfg["layer_norm_epsilon"])

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for block in self.h:
            x = block(x)
        return x if self.ln_f is None else self.ln_f(x)


class LMHeadModel(nn.Module):
    def __init__(self, cfg, post_ln=False):
        super().__init__()
        self.transformer = Transformer(cfg, post_ln)

    def forward(self, ids):
        return self.transformer(ids) @ self.transformer.wte.weight.T  # lm_head tied to wte, no bias


def write_safetensors(path, tensors, metadata=None):
    """tensors: name -> torch tensor (float -> F32, integer -> I32), in insertion order."""
    header = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype.is_floating_point:
            arr, dtype = t.to(torch.float32).numpy(), "F32"
        else:
            arr, dtype = t.to(torch.int32).numpy(), "I32"
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * ((8 - len(head) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def randomise(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=gen, dtype=torch.float64))


def tokenizer_files(directory):
    alphabet = bytes_to_unicode()
    vocab = {c: i for i, c in enumerate(alphabet)}
    for a, b in MERGES:
        vocab[a + b] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (directory / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (directory / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in MERGES), encoding="utf-8")
    return len(vocab)


def inputs(vocab_size, eot):
    gen = torch.Generator().manual_seed(7)
    lengths = [9, 6, 3]  # tokens per row before right padding with <|endoftext|>
    t = max(lengths)
    ids = torch.full((len(lengths), t), eot, dtype=torch.long)
    targets = torch.full((len(lengths), t), -100, dtype=torch.long)
    for r, n in enumerate(lengths):
        row = torch.randint(0, vocab_size - 1, (n + 1,), generator=gen)
        ids[r, :n] = row[:n]
        targets[r, :n] = row[1:]
    return ids, targets


def reference(model, ids, targets, names):
    model.zero_grad()
    logits = model(ids)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
    loss.backward()
    out = {"input.ids": ids, "input.targets": targets, "expected.logits": logits, "expected.loss": loss.reshape(1)}
    for name, p in model.named_parameters():
        out[f"grad.{names(name)}"] = p.grad
    return out


def main():
    torch.set_num_threads(1)
    directory = OUT / "gpt2-tiny"
    directory.mkdir(parents=True, exist_ok=True)
    vocab_size = tokenizer_files(directory)
    cfg = dict(CONFIG, vocab_size=vocab_size)
    (directory / "config.json").write_text(json.dumps(dict(cfg, model_type="gpt2", architectures=["GPT2LMHeadModel"]), indent=2) + "\n")
    ids, targets = inputs(vocab_size, vocab_size - 1)

    gen = torch.Generator().manual_seed(1)
    model = LMHeadModel(cfg).double()
    randomise(model, gen)
    write_safetensors(directory / "model.safetensors", model.state_dict(), {"format": "pt"})
    write_safetensors(directory / "reference.safetensors", reference(model, ids, targets, lambda n: n))

    gpt1 = LMHeadModel(cfg, post_ln=True).double()
    randomise(gpt1, torch.Generator().manual_seed(2))
    weights = {n: p for n, p in gpt1.state_dict().items() if not n.endswith(".attn.bias") and not n.endswith(".attn.masked_bias")}
    write_safetensors(OUT / "gpt1-tiny.safetensors", {**weights, **reference(gpt1, ids, targets, lambda n: n)},
                      {"config": json.dumps(cfg)})
    print(f"wrote {directory} and {OUT / 'gpt1-tiny.safetensors'} (vocab {vocab_size})")


if __name__ == "__main__":
    main()
