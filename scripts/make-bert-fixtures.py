#!/usr/bin/env python3
"""Writes tiny random BERT and RoBERTa checkpoints in the Hugging Face layouts, with reference MLM logits,
loss and every parameter's gradient, for test/model-bert.test.ts (BERT: Devlin et al. 2019; RoBERTa: Liu et al.
2019). `transformers` is not installed here, so the models are written out in plain PyTorch with the module
names of transformers' modeling_bert.py / modeling_roberta.py (BertForMaskedLM, RobertaForMaskedLM), computed
in float64 and stored as float32.

  test/fixtures/bert-tiny/    config.json, model.safetensors (old TF-converted names: LayerNorm.gamma/beta,
                              with the pooler, NSP head and an explicit tied cls.predictions.decoder.*),
                              reference.safetensors (also a 3-class classifier's weights and logits on the pooler)
  test/fixtures/roberta-tiny/ config.json, model.safetensors (roberta.* and lm_head.*, decoder absent: tied),
                              reference.safetensors

Usage: /usr/bin/python3 scripts/make-bert-fixtures.py
"""
import json
import math
import os

import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed(20)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


class Embeddings(nn.Module):
    def __init__(self, c, roberta):
        super().__init__()
        h = c['hidden_size']
        self.word_embeddings = nn.Embedding(c['vocab_size'], h)
        self.position_embeddings = nn.Embedding(c['max_position_embeddings'], h)
        self.token_type_embeddings = nn.Embedding(c['type_vocab_size'], h)
        self.LayerNorm = nn.LayerNorm(h, eps=c['layer_norm_eps'])
        self.roberta, self.pad = roberta, c['pad_token_id']

    def forward(self, ids, types):
        if self.roberta:  # create_position_ids_from_input_ids
            mask = ids.ne(self.pad).int()
            pos = (torch.cumsum(mask, dim=1) * mask).long() + self.pad
        else:
            pos = torch.arange(ids.shape[1]).expand_as(ids)
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(pos) + self.token_type_embeddings(types))


class SelfAttention(nn.Module):
    def __init__(self, h, heads):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.heads = heads

    def forward(self, x, ext_mask):
        b, s, h = x.shape
        d = h // self.heads
        split = lambda t: t.view(b, s, self.heads, d).permute(0, 2, 1, 3)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + ext_mask
        return (scores.softmax(-1) @ v).permute(0, 2, 1, 3).reshape(b, s, h)


class DenseNorm(nn.Module):
    def __init__(self, n_in, h, eps):
        super().__init__()
        self.dense, self.LayerNorm = nn.Linear(n_in, h), nn.LayerNorm(h, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c['hidden_size'], c['num_attention_heads'])
        self.output = DenseNorm(c['hidden_size'], c['hidden_size'], c['layer_norm_eps'])


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c['hidden_size'], c['intermediate_size'])


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseNorm(c['intermediate_size'], c['hidden_size'], c['layer_norm_eps'])

    def forward(self, x, ext_mask):
        a = self.attention.output(self.attention.self(x, ext_mask), x)
        return self.output(nn.functional.gelu(self.intermediate.dense(a)), a)  # erf GELU ('gelu')


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c['num_hidden_layers'])])


class Pooler(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.dense = nn.Linear(h, h)


class Trunk(nn.Module):
    def __init__(self, c, roberta, pooler):
        super().__init__()
        self.embeddings = Embeddings(c, roberta)
        self.encoder = Encoder(c)
        if pooler:
            self.pooler = Pooler(c['hidden_size'])

    def forward(self, ids, types, attention_mask):
        ext = (1.0 - attention_mask[:, None, None, :].double()) * torch.finfo(torch.float64).min
        x = self.embeddings(ids, types)
        for layer in self.encoder.layer:
            x = layer(x, ext)
        return x


class Transform(nn.Module):
    def __init__(self, h, eps):
        super().__init__()
        self.dense, self.LayerNorm = nn.Linear(h, h), nn.LayerNorm(h, eps=eps)


class Predictions(nn.Module):  # BertLMPredictionHead
    def __init__(self, c, word_embeddings):
        super().__init__()
        self.transform = Transform(c['hidden_size'], c['layer_norm_eps'])
        self.decoder = nn.Linear(c['hidden_size'], c['vocab_size'])
        self.bias = nn.Parameter(torch.randn(c['vocab_size']) * 0.1)
        self.decoder.weight = word_embeddings.weight  # tied
        self.decoder.bias = self.bias

    def forward(self, x):
        return self.decoder(self.transform.LayerNorm(nn.functional.gelu(self.transform.dense(x))))


class Cls(nn.Module):
    def __init__(self, c, word_embeddings):
        super().__init__()
        self.predictions = Predictions(c, word_embeddings)
        self.seq_relationship = nn.Linear(c['hidden_size'], 2)


class BertForPreTraining(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = Trunk(c, False, True)
        self.cls = Cls(c, self.bert.embeddings.word_embeddings)

    def forward(self, ids, types, mask):
        return self.cls.predictions(self.bert(ids, types, mask))


class LmHead(nn.Module):  # RobertaLMHead
    def __init__(self, c, word_embeddings):
        super().__init__()
        h = c['hidden_size']
        self.dense, self.layer_norm = nn.Linear(h, h), nn.LayerNorm(h, eps=c['layer_norm_eps'])
        self.decoder = nn.Linear(h, c['vocab_size'])
        self.bias = nn.Parameter(torch.randn(c['vocab_size']) * 0.1)
        self.decoder.weight = word_embeddings.weight
        self.decoder.bias = self.bias

    def forward(self, x):
        return self.decoder(self.layer_norm(nn.functional.gelu(self.dense(x))))


class RobertaForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.roberta = Trunk(c, True, False)
        self.lm_head = LmHead(c, self.roberta.embeddings.word_embeddings)

    def forward(self, ids, types, mask):
        return self.lm_head(self.roberta(ids, types, mask))


def randomise(model):
    """Weights far from identity so every path matters: N(0, 0.2) matrices, N(0, 0.1) biases, gains near 1."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0, 0.2)
            elif name.endswith('LayerNorm.weight') or name.endswith('layer_norm.weight'):
                p.normal_(1, 0.1)
            else:
                p.normal_(0, 0.1)


def write_safetensors(path, tensors, metadata=None):
    """A safetensors file of float32 / int32 tensors (little-endian), keys sorted."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        dtype = 'I32' if t.dtype in (torch.int32, torch.int64) else 'F32'
        data = t.to(torch.int32 if dtype == 'I32' else torch.float32).numpy().tobytes()
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(len(text).to_bytes(8, 'little') + text + b''.join(blobs))


def make(name, config, model_cls, legacy):
    c = config
    model = model_cls(c).double()
    randomise(model)
    b, s, pad = 3, 9, c['pad_token_id']
    lengths = [9, 6, 4]
    ids = torch.randint(pad + 3, c['vocab_size'], (b, s))  # ids past the specials
    types = torch.zeros(b, s, dtype=torch.long)
    mask = torch.zeros(b, s, dtype=torch.long)
    labels = torch.full((b, s), -100)
    for i, n in enumerate(lengths):
        ids[i, n:] = pad
        mask[i, :n] = 1
        if c['type_vocab_size'] > 1:
            types[i, n // 2:n] = 1  # sentence B
        for j in range(1, n, 2):
            labels[i, j] = torch.randint(0, c['vocab_size'], ()).item()
    logits = model(ids, types, mask)
    loss = nn.functional.cross_entropy(logits.view(-1, c['vocab_size']), labels.view(-1), ignore_index=-100)
    loss.backward()

    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    state = {}
    for n, p in model.state_dict().items():
        if n.endswith('decoder.weight') or n.endswith('decoder.bias'):
            if not legacy:
                continue  # tied: absent from the file, as save_pretrained writes it
        if legacy:
            n = n.replace('LayerNorm.weight', 'LayerNorm.gamma').replace('LayerNorm.bias', 'LayerNorm.beta')
        state[n] = p
    write_safetensors(os.path.join(out, 'model.safetensors'), state, {'format': 'pt'})
    ref = {'input.ids': ids, 'input.token_types': types, 'input.attention_mask': mask, 'input.labels': labels,
           'expected.logits': logits, 'expected.loss': loss.reshape(1)}
    for n, p in model.named_parameters():  # tied parameters appear once, under the embedding's name
        if p.grad is not None:
            ref['grad.' + n] = p.grad
    if hasattr(model, 'bert'):  # BertForSequenceClassification's head on the same trunk: pooler, then a classifier
        classifier = nn.Linear(c['hidden_size'], 3).double()
        randomise(classifier)
        with torch.no_grad():
            pooled = torch.tanh(model.bert.pooler.dense(model.bert(ids, types, mask)[:, 0]))
            ref.update({'expected.class_logits': classifier(pooled), 'classifier.weight': classifier.weight, 'classifier.bias': classifier.bias})
    write_safetensors(os.path.join(out, 'reference.safetensors'), ref)
    with open(os.path.join(out, 'config.json'), 'w') as f:
        json.dump(c, f, indent=2)
        f.write('\n')
    print(f'{name}: loss {loss.item():.6f}, {len(state)} tensors, {sum(n.startswith("grad.") for n in ref)} gradients')


common = {'hidden_size': 32, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'intermediate_size': 64,
          'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'attention_probs_dropout_prob': 0.1, 'vocab_size': 60}
make('bert-tiny', {'architectures': ['BertForPreTraining'], 'model_type': 'bert', **common, 'max_position_embeddings': 16,
                   'type_vocab_size': 2, 'layer_norm_eps': 1e-12, 'pad_token_id': 0}, BertForPreTraining, legacy=True)
make('roberta-tiny', {'architectures': ['RobertaForMaskedLM'], 'model_type': 'roberta', **common, 'max_position_embeddings': 18,
                      'type_vocab_size': 1, 'layer_norm_eps': 1e-5, 'pad_token_id': 1, 'bos_token_id': 0, 'eos_token_id': 2},
     RobertaForMaskedLM, legacy=False)
