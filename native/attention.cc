// Scaled dot-product attention over head-packed projections (eq. 1, §3.2.1): the weights softmax(scale Q K^T +
// mask) in one pass per query row, and all of dQ, dK, dV in one pass per (batch, head) pair, reading and writing
// the heads where the projections hold them. Semantics: Backend.attentionScores / attentionBackward in
// src/backend/backend.ts; the pairs are spread over the threads, each pair's loops on the VMath variant in use.
#include <cstdint>
#include <string>
#include <vector>

#include <omp.h>

#include "common.h"
#include "vmath.h"

namespace aiayn {
namespace {

/** A head-packed projection argument (data, offset, rowStride, col) checked for `rows` rows of h heads of d values. */
struct Packed {
  float* data;
  int64_t offset, rowStride, col;
};

Packed argPacked(const Napi::CallbackInfo& info, size_t i, int64_t rows, int64_t heads, int64_t d, const char* name) {
  Napi::Env env = info.Env();
  F32 buf = argF32(info, i, name);
  const Packed p{buf.data, argSize(info, i + 1, name), argSize(info, i + 2, name), argSize(info, i + 3, name)};
  const int64_t width = product(env, {heads, d});
  if (p.col + width > p.rowStride) fail(env, std::string("'") + name + "': its heads reach past the end of a row", true);
  if (rows > 0 && p.offset + product(env, {rows - 1, p.rowStride}) + p.col + width > buf.length) {
    fail(env, std::string("'") + name + "' reaches outside its buffer", true);
  }
  return p;
}

/** The (batch, heads, tq, tk, dK, dV) sizes of argument 0. */
struct Dims {
  int64_t batch, heads, tq, tk, dK, dV;
};

/** The arguments both kernels start with: dims, scale, q (4 arguments from 2) and k (4 from 6). */
struct PairArgs {
  Dims D;
  float scale;
  Packed q, k;
};

PairArgs argPairArgs(const Napi::CallbackInfo& info) {
  const std::vector<int64_t> d = argShape(info, 0, "dims");
  if (d.size() != 6) fail(info.Env(), "attention: dims needs [batch, heads, tq, tk, dK, dV]", true);
  const Dims D{d[0], d[1], d[2], d[3], d[4], d[5]};
  return {D, static_cast<float>(argNumber(info, 1, "scale")), argPacked(info, 2, D.batch * D.tq, D.heads, D.dK, "q"),
          argPacked(info, 6, D.batch * D.tk, D.heads, D.dK, "k")};
}

/** The pair of (b, h) of a projection: its first row and head. */
template <class P>
auto pairAt(const P& x, int64_t row, int64_t head, int64_t d) {
  return x.data + x.offset + row * x.rowStride + x.col + head * d;
}

/**
 * Calls fill(a, b, h) and then run(a) for every (batch, head) pair, the pairs spread over the threads when there are
 * `work` multiply-adds or more; a arrives with the pair's query and key heads, the sizes, the scale and scratch.
 */
template <class Fill, class Run>
void forEachPair(const PairArgs& args, int64_t work, Fill fill, Run run) {
  const Dims& D = args.D;
  const Packed& q = args.q;
  const Packed& k = args.k;
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
      a.tq = D.tq; a.tk = D.tk; a.dK = D.dK; a.dV = D.dV; a.scale = args.scale;
      a.scratch = scratch.data();
      fill(a, b, h);
      run(a);
    }
  });
}

/** attentionScores(dims, scale, q, qOffset, qRowStride, qCol, k, ..., mask | null, maskOffset, maskStrides, probs) */
Napi::Value AttentionScores(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const PairArgs args = argPairArgs(info);
  const Dims& D = args.D;
  const bool masked = !info[10].IsNull() && !info[10].IsUndefined();
  const StridedArg mask = masked ? argStrided(info, 10, {D.batch, D.heads, D.tq, D.tk}, "mask") : StridedArg{nullptr, 0, {0, 0, 0, 0}};
  F32 probs = argF32(info, 13, "probs");
  const int64_t pairs = product(env, {D.batch, D.heads});
  needLength(env, probs.length, product(env, {pairs, D.tq, D.tk}), "probs");
  const VMath& vm = vmath();
  forEachPair(args, pairs * D.tq * D.tk * D.dK, [&](AttentionPair& a, int64_t b, int64_t h) {
    if (masked) {
      a.mask = mask.data + mask.offset + b * mask.strides[0] + h * mask.strides[1];
      a.maskRow = mask.strides[2];
      a.maskCol = mask.strides[3];
    }
    a.probs = probs.data + (b * D.heads + h) * D.tq * D.tk;
  }, vm.attentionScoresPair);
  return env.Undefined();
}

/**
 * attentionBackward(dims, scale, q (4 args), k (4), v (4), probs, keepBits | null, p, dOut, dq (4), dk (4), dv (4))
 */
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const PairArgs args = argPairArgs(info);
  const Dims& D = args.D;
  const Packed v = argPacked(info, 10, D.batch * D.tk, D.heads, D.dV, "v");
  F32 probs = argF32(info, 14, "probs");
  const bool dropped = !info[15].IsNull() && !info[15].IsUndefined();
  const I32 keepBits = dropped ? argI32(info, 15, "keepBits") : I32{nullptr, 0};
  const double p = argNumber(info, 16, "p");
  F32 dOut = argF32(info, 17, "dOut");
  const Packed dq = argPacked(info, 18, D.batch * D.tq, D.heads, D.dK, "dq");
  const Packed dk = argPacked(info, 22, D.batch * D.tk, D.heads, D.dK, "dk");
  const Packed dv = argPacked(info, 26, D.batch * D.tk, D.heads, D.dV, "dv");
  const int64_t pairs = product(env, {D.batch, D.heads});
  const int64_t weights = product(env, {pairs, D.tq, D.tk});
  needLength(env, probs.length, weights, "probs");
  needLength(env, dOut.length, product(env, {D.batch, D.tq, D.heads, D.dV}), "dOut");
  if (dropped) {
    if (!(p >= 0.0 && p < 1.0)) fail(env, "attentionBackward: dropout p must be in [0, 1)", true);
    needLength(env, keepBits.length, (weights + 31) / 32, "keepBits");
  }
  const float keep = dropped ? static_cast<float>(1.0 / (1.0 - p)) : 1.0f;
  const VMath& vm = vmath();
  forEachPair(args, pairs * D.tq * D.tk * (D.dK + D.dV), [&](AttentionPair& a, int64_t b, int64_t h) {
    const int64_t pr = b * D.heads + h;
    a.v = pairAt(v, b * D.tk, h, D.dV); a.ldv = v.rowStride;
    a.probs = probs.data + pr * D.tq * D.tk;
    a.keepBits = keepBits.data; a.bitBase = pr * D.tq * D.tk; a.keep = keep;
    a.dOut = dOut.data + b * D.tq * D.heads * D.dV + h * D.dV; a.ldo = D.heads * D.dV;
    a.dq = pairAt(dq, b * D.tq, h, D.dK); a.lddq = dq.rowStride;
    a.dk = pairAt(dk, b * D.tk, h, D.dK); a.lddk = dk.rowStride;
    a.dv = pairAt(dv, b * D.tk, h, D.dV); a.lddv = dv.rowStride;
  }, vm.attentionBackwardPair);
  return env.Undefined();
}

}  // namespace

void initAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("attentionScores", Napi::Function::New(env, AttentionScores, "attentionScores"));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward, "attentionBackward"));
}

}  // namespace aiayn
