"""Writes the PyTorch parity fixtures of the Transformer (test/fixtures/model/*.safetensors).

The reference is the model of the PyTorch translation tutorial ("Language Translation with nn.Transformer
and torchtext"): TokenEmbedding (embedding * sqrt(d_model)), PositionalEncoding (sinusoidal, interleaved
sin/cos), torch.nn.Transformer (seq-first) and a Linear generator, with the tutorial's masks (causal float
tgt mask, boolean key padding masks for src, tgt and memory). Weights are randomised (biases and LayerNorm
gains too), the model runs in eval mode, and logits, the label-smoothed loss (eps 0.1, pad ignored) and the
gradient of every parameter are computed in float64 and stored as float32, batch-first.

Each file holds the state dict under its PyTorch names, `input.src`/`input.tgt_in`/`input.tgt_out` (int32,
batch-first), `expected.logits` [B, T, V], `expected.loss` [1] and `grad.<name>` per parameter; the
metadata `config` is the aiayn TransformerConfig and `pad_id` the padding id.

Run: /usr/bin/python3 scripts/make-model-fixtures.py (PyTorch 1.13, CPU). The safetensors file is written
by hand (8-byte little-endian header length, JSON header, raw little-endian data), no extra packages.
"""
import json
import math
import struct
import sys
from pathlib import Path

import torch
from torch import nn

PAD, BOS, EOS = 1, 2, 3
OUT_DIR = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "model"


class PositionalEncoding(nn.Module):
    """The tutorial's sinusoidal encoding: pe[:, 0::2] = sin(pos * den), pe[:, 1::2] = cos(pos * den)."""

    def __init__(self, emb_size, dropout, maxlen):
        super().__init__()
        den = torch.exp(-torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pos_embedding", pos_embedding.unsqueeze(-2))

    def forward(self, token_embedding):
        return self.dropout(token_embedding + self.pos_embedding[: token_embedding.size(0), :])


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size, emb_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_size)
        self.emb_size = emb_size

    def forward(self, tokens):
        return self.embedding(tokens.long()) * math.sqrt(self.emb_size)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.transformer = nn.Transformer(
            d_model=cfg["dModel"], nhead=cfg["h"], num_encoder_layers=cfg["encoderLayers"],
            num_decoder_layers=cfg["decoderLayers"], dim_feedforward=cfg["dFF"], dropout=cfg["dropout"],
            activation=cfg["activation"], norm_first=cfg["normFirst"], layer_norm_eps=cfg["layerNormEps"])
        self.generator = nn.Linear(cfg["dModel"], cfg["tgtVocab"])
        self.src_tok_emb = TokenEmbedding(cfg["srcVocab"], cfg["dModel"])
        self.tgt_tok_emb = TokenEmbedding(cfg["tgtVocab"], cfg["dModel"])
        self.positional_encoding = PositionalEncoding(cfg["dModel"], cfg["dropout"], cfg["maxLen"])

    def forward(self, src, trg, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, memory_key_padding_mask):
        src_emb = self.positional_encoding(self.src_tok_emb(src))
        tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
        outs = self.transformer(src_emb, tgt_emb, src_mask, tgt_mask, None,
                                src_padding_mask, tgt_padding_mask, memory_key_padding_mask)
        return self.generator(outs)


def create_mask(src, tgt):
    """The tutorial's masks (seq-first ids)."""
    src_len, tgt_len = src.shape[0], tgt.shape[0]
    tgt_mask = torch.triu(torch.full((tgt_len, tgt_len), float("-inf"), dtype=torch.float64), diagonal=1)
    src_mask = torch.zeros((src_len, src_len), dtype=torch.bool)
    return src_mask, tgt_mask, (src == PAD).transpose(0, 1), (tgt == PAD).transpose(0, 1)


def ragged_batch(gen, lengths, vocab):
    """Seq-first [L, B] ids: BOS, random tokens, EOS, then PAD up to the longest."""
    longest = max(lengths)
    rows = []
    for n in lengths:
        body = torch.randint(4, vocab, (n - 2,), generator=gen).tolist()
        rows.append([BOS] + body + [EOS] + [PAD] * (longest - n))
    return torch.tensor(rows, dtype=torch.int64).t().contiguous()


def randomise(model, gen):
    """Xavier matrices (as the tutorial), and non-trivial biases and LayerNorm gains so every term is tested."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                bound = math.sqrt(6 / (p.shape[0] + p.shape[1]))
                p.copy_((torch.rand(p.shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound)
            elif name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm3.weight") or name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen, dtype=torch.float64))


def write_safetensors(path, tensors, metadata):
    """tensors: name -> torch tensor (float -> F32, integer -> I32), written in insertion order."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        if t.dtype.is_floating_point:
            arr, dtype = t.detach().to(torch.float32).contiguous(), "F32"
        else:
            arr, dtype = t.to(torch.int32).contiguous(), "I32"
        raw = arr.numpy().astype(arr.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * ((8 - len(head) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def make_fixture(name, cfg, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = Seq2SeqTransformer(cfg).double()
    randomise(model, gen)
    model.eval()  # dropout off; grad mode stays on, so nn.Transformer takes its regular (non fast) path

    src = ragged_batch(gen, [7, 5, 3], cfg["srcVocab"])          # [S, B]
    tgt = ragged_batch(gen, [6, 9, 4], cfg["tgtVocab"])          # [T+1, B]
    tgt_in, tgt_out = tgt[:-1, :], tgt[1:, :]
    src_mask, tgt_mask, src_pad, tgt_pad = create_mask(src, tgt_in)
    logits = model(src, tgt_in, src_mask, tgt_mask, src_pad, tgt_pad, src_pad)  # [T, B, V]
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=cfg["labelSmoothing"])
    loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
    loss.backward()

    tensors = dict(model.state_dict())
    tensors["input.src"] = src.t()
    tensors["input.tgt_in"] = tgt_in.t()
    tensors["input.tgt_out"] = tgt_out.t()
    tensors["expected.logits"] = logits.detach().transpose(0, 1)
    tensors["expected.loss"] = loss.detach().reshape(1)
    for pname, p in model.named_parameters():
        tensors["grad." + pname] = p.grad
    path = OUT_DIR / f"{name}.safetensors"
    write_safetensors(path, tensors, {"config": json.dumps(cfg), "pad_id": str(PAD), "torch": torch.__version__})
    print(f"{path.name}: loss {loss.item():.6f}, {path.stat().st_size} bytes")


COMMON = {
    "srcVocab": 23, "tgtVocab": 29, "encoderLayers": 2, "decoderLayers": 2, "dModel": 16, "dFF": 32, "h": 2,
    "dropout": 0.1, "attentionDropout": 0.1, "labelSmoothing": 0.1, "maxLen": 32, "finalNorm": True,
    "shareEmbeddings": "none", "positional": "sinusoidal", "attention": "scaled-dot", "layerNormEps": 1e-5, "seed": 0,
}

if __name__ == "__main__":
    torch.set_num_threads(1)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    make_fixture("post-ln", {**COMMON, "normFirst": False, "activation": "relu"}, seed=1)
    make_fixture("pre-ln", {**COMMON, "normFirst": True, "activation": "gelu"}, seed=2)
    sys.exit(0)
