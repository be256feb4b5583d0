// PyTorch interop: maps aiayn's Transformer parameter names to and from the state dict of the PyTorch
// translation tutorial's Seq2SeqTransformer (torch.nn.Transformer under `transformer.`, packed
// in_proj_weight / in_proj_bias and out_proj per attention, linear1 / linear2, norm1..3, encoder.norm and
// decoder.norm; `src_tok_emb.embedding.weight`, `tgt_tok_emb.embedding.weight`, `generator.weight/bias`, and
// the buffer `positional_encoding.pos_embedding` [maxLen, 1, d]). Our names already coincide except for the
// feed-forward block (ours: `feed_forward.linear1`, torch: `linear1`), the sinusoidal table (a fixed
// non-persistent buffer here) and tied embeddings (stored once here, once per name in PyTorch).

import type { StateEntry } from '../nn/module.js';
import { sinusoidalTable } from '../nn/positional.js';
import type { Transformer } from '../models/transformer.js';
import type { SafetensorsInput } from './safetensors.js';

const FFN = /^(transformer\.(?:encoder|decoder)\.layers\.\d+\.)feed_forward\.(linear[12]\.(?:weight|bias))$/;
const TORCH_FFN = /^(transformer\.(?:encoder|decoder)\.layers\.\d+\.)(linear[12]\.(?:weight|bias))$/;
const PE_BUFFER = 'positional_encoding.pos_embedding';
const SRC_EMB = 'src_tok_emb.embedding.weight';
const TGT_EMB = 'tgt_tok_emb.embedding.weight';
const GEN_WEIGHT = 'generator.weight';

/** Our parameter name -> the PyTorch tutorial's. */
export function toTorchName(name: string): string {
  return name.replace(FFN, '$1$2');
}

/** A PyTorch tutorial name -> ours. */
export function fromTorchName(name: string): string {
  return name.replace(TORCH_FFN, '$1feed_forward.$2');
}

/** Throws unless the model has the tutorial's architecture (what the torch state dict can express). */
function assertTorchCompatible(model: Transformer, op: string): void {
  const c = model.config;
  const problems: string[] = [];
  if (!c.finalNorm) problems.push('finalNorm must be true (torch.nn.Transformer always has encoder.norm and decoder.norm)');
  if (c.positional !== 'sinusoidal') problems.push(`positional '${c.positional}' has no counterpart (the tutorial is sinusoidal)`);
  if (c.attention !== 'scaled-dot') problems.push(`attention '${c.attention}' has no counterpart (nn.MultiheadAttention is scaled dot-product)`);
  if (problems.length > 0) throw new Error(`${op}: model is not expressible as the PyTorch tutorial's: ${problems.join('; ')}`);
}

/** The PyTorch tutorial's state dict of `model` (host copies, float32), tied weights repeated under each name. */
export async function toTorchStateDict(model: Transformer): Promise<Map<string, SafetensorsInput>> {
  assertTorchCompatible(model, 'toTorchStateDict');
  const out = new Map<string, SafetensorsInput>();
  for (const [name, t] of model.stateDict()) {
    out.set(toTorchName(name), { dtype: 'F32', shape: [...t.shape], data: (await t.data()) as Float32Array });
  }
  const c = model.config;
  const emb = out.get(c.shareEmbeddings === 'all' ? SRC_EMB : TGT_EMB)!;
  if (c.shareEmbeddings === 'all') out.set(TGT_EMB, { ...emb, data: emb.data.slice() });
  if (c.shareEmbeddings !== 'none') out.set(GEN_WEIGHT, { ...emb, data: emb.data.slice() });
  out.set(PE_BUFFER, { dtype: 'F32', shape: [c.maxLen, 1, c.dModel], data: Float32Array.from(sinusoidalTable(c.maxLen, c.dModel)) });
  return out;
}

/** Largest |a - b| over two equally long arrays. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < Math.min(a.length, b.length); i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * Loads a PyTorch tutorial state dict (e.g. from loadSafetensors(path).tensors) into `model`. The sinusoidal
 * buffer, if present, must match ours (to 1e-4, rows they share); tied names must hold equal values.
 */
export function loadTorchStateDict(model: Transformer, dict: ReadonlyMap<string, StateEntry>, opts: { strict?: boolean } = {}): void {
  assertTorchCompatible(model, 'loadTorchStateDict');
  const c = model.config;
  const renamed = new Map<string, StateEntry>();
  for (const [name, entry] of dict) renamed.set(fromTorchName(name), entry);
  const valuesOf = (e: StateEntry): ArrayLike<number> => ('toArray' in e ? e.toArray() : e.data);
  const pe = renamed.get(PE_BUFFER);
  if (pe !== undefined) {
    const rows = Math.min(pe.shape[0] ?? 0, c.maxLen);
    const theirs = Array.prototype.slice.call(valuesOf(pe), 0, rows * c.dModel) as number[];
    const ours = sinusoidalTable(rows, c.dModel);
    if (pe.shape[pe.shape.length - 1] !== c.dModel || maxDiff(theirs, ours) > 1e-4) {
      throw new Error(`loadTorchStateDict: ${PE_BUFFER} [${pe.shape.join(', ')}] is not the sinusoidal table of d_model ${c.dModel}`);
    }
    renamed.delete(PE_BUFFER);
  }
  const dropTied = (tied: string, owner: string): void => {
    const a = renamed.get(tied);
    const b = renamed.get(owner);
    if (a === undefined) return;
    if (b !== undefined && maxDiff(valuesOf(a), valuesOf(b)) !== 0) {
      throw new Error(`loadTorchStateDict: ${tied} differs from ${owner}, but the model ties them (shareEmbeddings '${c.shareEmbeddings}')`);
    }
    renamed.delete(tied);
  };
  if (c.shareEmbeddings !== 'none') dropTied(GEN_WEIGHT, c.shareEmbeddings === 'all' ? SRC_EMB : TGT_EMB);
  if (c.shareEmbeddings === 'all') dropTied(TGT_EMB, SRC_EMB);
  model.loadStateDict(renamed, opts);
}
