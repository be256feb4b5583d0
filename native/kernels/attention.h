// Scaled dot-product attention over head-packed projections (src/backend/ts/attention.ts, eq. 1, §3.2.1): the
// weights softmax(scale Q K^T + mask) in one pass per query row, and all of dQ, dK, dV in one pass per (batch,
// head) pair, reading and writing the heads where the projections hold them. Keys past a query row's last visible
// one (a causal mask's upper triangle, right padding) have weight exactly 0, and the products stop there.
#pragma once

#include <cstdint>

#include "kernels/strided.h"

namespace aiayn {

/** batch x heads pairs of tq queries over tk keys, dK values per query and key head, dV per value head. */
struct AttentionShape {
  int64_t batch, heads, tq, tk, dK, dV;
};

/** A head-packed projection: head h of row r (rows = batch x positions) at base + r * rowStride + h * d. */
struct HeadPackedRef {
  float* base;
  int64_t rowStride;
};

/** probs (batch, heads, tq, tk) = softmax(scale Q K^T + mask); mask.data nullptr: none, else 4 strides. */
struct AttentionScoresArgs {
  AttentionShape dims;
  float scale;
  HeadPackedRef q, k;
  StridedRef mask;
  float* probs;
};
/** Runs the attention weights. */
void attentionScores(const AttentionScoresArgs& g);

/**
 * dq, dk, dv (written) of out = dropout(P) V from probs P, dOut (batch, tq, heads x dV) dense and the keep bits
 * (nullptr: no dropout) with keep = 1 / (1 - p).
 */
struct AttentionBackwardArgs {
  AttentionShape dims;
  float scale;
  HeadPackedRef q, k, v;
  float* probs;
  const int32_t* keepBits;
  float keep;
  const float* dOut;
  HeadPackedRef dq, dk, dv;
};
/** Runs the attention backward. */
void attentionBackward(const AttentionBackwardArgs& g);

}  // namespace aiayn
