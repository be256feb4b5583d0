// Attention masks (§3.2.3): additive float masks, 0 where a query may attend and -Infinity where it may
// not, added to the scores before the softmax. Key padding hides padded source/target positions; the causal
// mask keeps decoder position i from attending to positions after i (auto-regressive property).

import { where } from '../tensor/ops/elementwise.js';
import { Tensor } from '../tensor/tensor.js';

/** 1 where ids == padId, else 0: (B, S) int32 -> (B, S) float32 (nonzero = padding, as PyTorch's key_padding_mask). */
export function padMaskFromIds(ids: Tensor, padId: number): Tensor {
  const src = ids.hostIds();
  if (src === null) throw new Error('padMaskFromIds: the ids must be readable on the host (made from host values)');
  return Tensor.fromHost(Float32Array.from(src, (id) => (id === padId ? 1 : 0)), ids.shape);
}

/** Key padding mask (B, S) (nonzero = pad, any dtype) -> additive (B, 1, 1, S), broadcast over heads and queries. */
export function keyPaddingMask(padMask: Tensor): Tensor {
  if (padMask.rank !== 2) throw new Error(`keyPaddingMask: expected (B, S), got [${padMask.shape.join(', ')}]`);
  const [b, s] = padMask.shape as [number, number];
  const pad = padMask.dtype === 'int32' ? padMaskFromIds(padMask, 0).eq(0) : padMask.ne(0); // 1 = pad
  return where(pad, -Infinity, 0).reshape([b, 1, 1, s]); // (B, 1, 1, S)
}

/**
 * Additive causal mask (T, past + T) for T new positions after `past` cached ones: -Infinity where key j
 * lies after query i (position past + i sees 0..past + i). past = 0 gives the usual (T, T) mask.
 */
export function causalMask(t: number, past = 0): Tensor {
  const s = past + t;
  const out = new Float32Array(t * s); // (T, past + T)
  for (let i = 0; i < t; i++) for (let j = 0; j < s; j++) out[i * s + j] = j > past + i ? -Infinity : 0;
  return Tensor.fromHost(out, [t, s]);
}

/** Sum of additive masks (undefined entries skipped); undefined when none is given. */
export function combineMasks(...masks: Array<Tensor | undefined>): Tensor | undefined {
  let out: Tensor | undefined;
  for (const m of masks) if (m !== undefined) out = out === undefined ? m : out.add(m);
  return out;
}
