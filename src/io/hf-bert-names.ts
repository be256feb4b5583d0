// Our BERT / RoBERTa parameter names (src/models/bert.ts: BERT, Devlin et al. 2019; RoBERTa, Liu et al. 2019)
// against Hugging Face transformers' (modeling_bert.py, modeling_roberta.py). Our attention keeps Q, K and V
// packed (torch.nn.MultiheadAttention's in_proj_weight [3H, H]); HF stores them as three Linear layers, so that
// one name maps to three, concatenated along the rows in the order query, key, value.

import type { BertConfig } from '../models/bert-config.js';

/** A tensor on the host: shape and float32 values. */
export interface HostTensor { shape: readonly number[]; data: Float32Array; }

/** The HF prefix of the trunk: `bert.` or `roberta.`. */
export function hfPrefix(config: BertConfig): string {
  return `${config.variant}.`;
}

const LAYER = /^encoder\.layers\.(\d+)\.(.+)$/;

/** Renames inside one encoder layer (ours -> HF's, after `encoder.layer.i.`). */
const LAYER_PARTS: Array<[string, string]> = [
  ['self_attn.out_proj.', 'attention.output.dense.'], ['norm1.', 'attention.output.LayerNorm.'],
  ['feed_forward.linear1.', 'intermediate.dense.'], ['feed_forward.linear2.', 'output.dense.'], ['norm2.', 'output.LayerNorm.'],
];

/** The heads' names (ours -> HF's) for each variant. */
function headNames(config: BertConfig): Array<[string, string]> {
  if (config.variant === 'bert') {
    return [['mlm.dense.', 'cls.predictions.transform.dense.'], ['mlm.LayerNorm.', 'cls.predictions.transform.LayerNorm.'],
      ['mlm.bias', 'cls.predictions.bias'], ['pooler.', 'bert.pooler.dense.'], ['classifier.', 'classifier.']];
  }
  // RobertaClassificationHead: dense + tanh on <s>, then out_proj: our pooler and classifier.
  return [['mlm.dense.', 'lm_head.dense.'], ['mlm.LayerNorm.', 'lm_head.layer_norm.'], ['mlm.bias', 'lm_head.bias'],
    ['pooler.', 'classifier.dense.'], ['classifier.', 'classifier.out_proj.']];
}

/** The HF name(s) of one of our parameters: three (query, key, value) for a packed projection, else one. */
export function hfNamesOf(name: string, config: BertConfig): string[] {
  const prefix = hfPrefix(config);
  const layer = LAYER.exec(name);
  if (layer !== null) {
    const [, i, rest] = layer as unknown as [string, string, string];
    const base = `${prefix}encoder.layer.${i}.`;
    const packed = /^self_attn\.in_proj_(weight|bias)$/.exec(rest);
    if (packed !== null) return ['query', 'key', 'value'].map((p) => `${base}attention.self.${p}.${packed[1]}`);
    const part = LAYER_PARTS.find(([ours]) => rest.startsWith(ours));
    if (part !== undefined) return [base + part[1] + rest.slice(part[0].length)];
  }
  if (name.startsWith('embeddings.')) return [prefix + name];
  const head = headNames(config).find(([ours]) => name.startsWith(ours));
  if (head !== undefined) return [head[1] + name.slice(head[0].length)];
  throw new Error(`hf-bert: no Hugging Face name for parameter ${name}`);
}

/** Our tensors (by our names) as HF tensors: packed projections split into query, key and value. */
export function toHfTensors(config: BertConfig, tensors: Iterable<[string, HostTensor]>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    const names = hfNamesOf(name, config);
    const rows = t.shape[0]! / names.length;
    const rowSize = t.data.length / t.shape[0]!;
    names.forEach((n, k) => {
      out.set(n, { shape: names.length === 1 ? [...t.shape] : [rows, ...t.shape.slice(1)], data: t.data.slice(k * rows * rowSize, (k + 1) * rows * rowSize) });
    });
  }
  return out;
}
