// Attention over head-packed projections (see attention.h): the (batch, head) pairs spread over the threads,
// each pair's loops on the VMath variant in use.
#include "kernels/attention.h"

#include <vector>

#include "kernels/parallel.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

/** The first row of pair (row, head) in a projection with d values a head. */
inline float* pairAt(const HeadPackedRef& x, int64_t row, int64_t head, int64_t d) { return x.base + row * x.rowStride + head * d; }

/**
 * Calls fill(a, b, h) and then run(a) for every (batch, head) pair, the pairs spread over the threads when there are
 * `work` multiply-adds or more; a arrives with the pair's query and key heads, the sizes, the scale and scratch.
 */
template <class Fill, class Run>
void forEachPair(const AttentionShape& D, float scale, const HeadPackedRef& q, const HeadPackedRef& k, int64_t work, Fill fill,
                 Run run) {
  const int64_t pairs = D.batch * D.heads;
  parallelIf(pairs > 1 && work >= kParallelGrain, [&] {
    thread_local std::vector<float> scratch;
    scratch.resize(static_cast<size_t>(attentionScratch(D.tq, D.tk, D.dK, D.dV)));
#pragma omp for schedule(static) nowait
    for (int64_t pr = 0; pr < pairs; pr++) {
      const int64_t b = pr / D.heads;
      const int64_t h = pr % D.heads;
      AttentionPair a{};
      a.q = pairAt(q, b * D.tq, h, D.dK); a.ldq = q.rowStride;
      a.k = pairAt(k, b * D.tk, h, D.dK); a.ldk = k.rowStride;
      a.tq = D.tq; a.tk = D.tk; a.dK = D.dK; a.dV = D.dV; a.scale = scale;
      a.scratch = scratch.data();
      fill(a, b, h);
      run(a);
    }
  });
}

}  // namespace

void attentionScores(const AttentionScoresArgs& g) {
  const AttentionShape& D = g.dims;
  const StridedRef& mask = g.mask;
  const bool masked = mask.data != nullptr;
  const int64_t pairs = D.batch * D.heads;
  forEachPair(D, g.scale, g.q, g.k, pairs * D.tq * D.tk * D.dK, [&](AttentionPair& a, int64_t b, int64_t h) {
    if (masked) {
      a.mask = mask.data + mask.offset + b * mask.strides[0] + h * mask.strides[1];
      a.maskRow = mask.strides[2];
      a.maskCol = mask.strides[3];
    }
    a.probs = g.probs + (b * D.heads + h) * D.tq * D.tk;
  }, vmath().attentionScoresPair);
}

void attentionBackward(const AttentionBackwardArgs& g) {
  const AttentionShape& D = g.dims;
  const int64_t pairs = D.batch * D.heads;
  forEachPair(D, g.scale, g.q, g.k, pairs * D.tq * D.tk * (D.dK + D.dV), [&](AttentionPair& a, int64_t b, int64_t h) {
    const int64_t pr = b * D.heads + h;
    a.v = pairAt(g.v, b * D.tk, h, D.dV); a.ldv = g.v.rowStride;
    a.probs = g.probs + pr * D.tq * D.tk;
    a.keepBits = g.keepBits; a.bitBase = pr * D.tq * D.tk; a.keep = g.keep;
    a.dOut = g.dOut + b * D.tq * D.heads * D.dV + h * D.dV; a.ldo = D.heads * D.dV;
    a.dq = pairAt(g.dq, b * D.tq, h, D.dK); a.lddq = g.dq.rowStride;
    a.dk = pairAt(g.dk, b * D.tk, h, D.dK); a.lddk = g.dk.rowStride;
    a.dv = pairAt(g.dv, b * D.tk, h, D.dV); a.lddv = g.dv.rowStride;
  }, vmath().attentionBackwardPair);
}

}  // namespace aiayn
