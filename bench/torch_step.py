"""PyTorch side of `npm run bench:vs-torch`: a long-lived worker that trains or greedily decodes the same
Transformer as aiayn's (Vaswani et al. 2017, Figure 1) and times itself on command.

Model: the PyTorch translation tutorial's Seq2SeqTransformer, batch-first: token embeddings * sqrt(d_model)
(section 3.4), sinusoidal positional encoding (section 3.5) with dropout, torch.nn.Transformer (post-LN,
ReLU, dropout 0.1, final LayerNorm on both stacks), generator Linear; label-smoothed cross entropy
(eps 0.1, pad ignored, section 5.4) and Adam(0.9, 0.98, 1e-9) (section 5.3).

Usage: python3 bench/torch_step.py --spec '<JSON>' --threads N
--spec is the harness's config (bench/vs-torch.ts SPECS): {"d", "h", "ff", "enc", "dec", "vocab", "batch", "src",
"tgt", "newTokens"}; batch = sequences, src/tgt = tokens per sequence.
stdin, one command per line; stdout, one JSON line per command:
  run K        K training steps      -> {"ms": total, "steps": K, "loss": last, "peak_rss_mb": ...}
  decode B K   K greedy decodes of B -> {"ms": total, "decodes": K, "batch": B, "peak_rss_mb": ...}
  quit
The first line written is {"ready": true, "params": ..., "torch": ...}.
"""

import argparse
import json
import math
import resource
import sys
import time
import warnings

import torch
from torch import nn

PAD, BOS, FIRST_WORD = 1, 2, 4
DROPOUT = 0.1


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal encoding of section 3.5 to batch-first (B, L, d) inputs, then dropout."""

    def __init__(self, d, dropout, max_len=512):
        super().__init__()
        pos = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
        freq = torch.exp(-torch.arange(0, d, 2, dtype=torch.float32) * math.log(10000.0) / d)
        pe = torch.zeros(max_len, d)
        pe[:, 0::2] = torch.sin(pos * freq)
        pe[:, 1::2] = torch.cos(pos * freq)
        self.register_buffer("pe", pe.unsqueeze(0))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(x + self.pe[:, : x.size(1)])


class Seq2SeqTransformer(nn.Module):
    """Embeddings * sqrt(d) + PE, nn.Transformer, generator: the tutorial's model, batch-first."""

    def __init__(self, c):
        super().__init__()
        self.d = c["d"]
        self.src_tok_emb = nn.Embedding(c["vocab"], c["d"])
        self.tgt_tok_emb = nn.Embedding(c["vocab"], c["d"])
        self.positional_encoding = PositionalEncoding(c["d"], DROPOUT)
        self.transformer = nn.Transformer(d_model=c["d"], nhead=c["h"], num_encoder_layers=c["enc"],
                                          num_decoder_layers=c["dec"], dim_feedforward=c["ff"], dropout=DROPOUT,
                                          activation="relu", batch_first=True, norm_first=False)
        self.generator = nn.Linear(c["d"], c["vocab"])

    def embed_src(self, src):
        return self.positional_encoding(self.src_tok_emb(src) * math.sqrt(self.d))

    def embed_tgt(self, tgt):
        return self.positional_encoding(self.tgt_tok_emb(tgt) * math.sqrt(self.d))

    def forward(self, src, tgt_in):
        """src (B, S), tgt_in (B, T) -> logits (B, T, V), with causal and key padding masks as the tutorial."""
        tgt_mask = self.transformer.generate_square_subsequent_mask(tgt_in.size(1))
        src_pad, tgt_pad = src == PAD, tgt_in == PAD
        out = self.transformer(self.embed_src(src), self.embed_tgt(tgt_in), tgt_mask=tgt_mask,
                               src_key_padding_mask=src_pad, tgt_key_padding_mask=tgt_pad,
                               memory_key_padding_mask=src_pad)
        return self.generator(out)

    def encode(self, src):
        return self.transformer.encoder(self.embed_src(src), src_key_padding_mask=src == PAD)

    def decode(self, ys, memory, src_pad):
        tgt_mask = self.transformer.generate_square_subsequent_mask(ys.size(1))
        return self.transformer.decoder(self.embed_tgt(ys), memory, tgt_mask=tgt_mask,
                                        memory_key_padding_mask=src_pad)


def random_batch(c, gen, batch=None):
    """Random word ids (no padding): src (B, S), tgt_in = BOS + tgt[:-1], tgt_out (B, T)."""
    b = c["batch"] if batch is None else batch
    src = torch.randint(FIRST_WORD, c["vocab"], (b, c["src"]), generator=gen)
    tgt = torch.randint(FIRST_WORD, c["vocab"], (b, c["tgt"]), generator=gen)
    tgt_in = torch.cat([torch.full((b, 1), BOS), tgt[:, :-1]], dim=1)
    return src, tgt_in, tgt


def greedy_decode(model, src, new_tokens):
    """The tutorial's greedy loop, batched: each step re-decodes the whole prefix (no KV cache)."""
    src_pad = src == PAD
    memory = model.encode(src)
    ys = torch.full((src.size(0), 1), BOS, dtype=torch.long)
    for _ in range(new_tokens):
        out = model.decode(ys, memory, src_pad)
        next_word = model.generator(out[:, -1]).argmax(dim=1)
        ys = torch.cat([ys, next_word.unsqueeze(1)], dim=1)
    return ys[:, 1:]


def peak_rss_mb():
    """Peak resident set size of this process (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True, help="model and batch shapes as JSON (see the docstring)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*nested tensors.*")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    c = json.loads(args.spec)
    model = Seq2SeqTransformer(c)
    for p in model.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=0.1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    gen = torch.Generator().manual_seed(1)
    batches = [random_batch(c, gen) for _ in range(4)]
    steps = 0

    def reply(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    reply({"ready": True, "params": sum(p.numel() for p in model.parameters()), "torch": torch.__version__,
           "threads": torch.get_num_threads(), "blas": "openblas-openmp" if "openblas-openmp" in open("/proc/self/maps").read() else "default"})
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "quit":
            break
        if cmd[0] == "run":
            k = int(cmd[1])
            model.train()
            loss = None
            t0 = time.perf_counter()
            for _ in range(k):
                src, tgt_in, tgt_out = batches[steps % len(batches)]
                steps += 1
                logits = model(src, tgt_in)
                loss = loss_fn(logits.reshape(-1, logits.size(-1)), tgt_out.reshape(-1))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            ms = (time.perf_counter() - t0) * 1000
            reply({"ms": ms, "steps": k, "loss": loss.item() if loss is not None else None, "peak_rss_mb": peak_rss_mb()})
        elif cmd[0] == "decode":
            b, k = int(cmd[1]), int(cmd[2])
            src = random_batch(c, gen, b)[0]
            model.eval()
            t0 = time.perf_counter()
            with torch.no_grad():
                for _ in range(k):
                    out = greedy_decode(model, src, c["newTokens"])
            ms = (time.perf_counter() - t0) * 1000
            reply({"ms": ms, "decodes": k, "batch": b, "tokens": int(out.size(1)), "peak_rss_mb": peak_rss_mb()})
        else:
            reply({"error": f"unknown command {line.strip()!r}"})


if __name__ == "__main__":
    main()
