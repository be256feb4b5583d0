// One token of the Transformer decoder (see decoder_step.h): what TransformerDecoder.step otherwise computes
// through about 60 kernel calls a token, without returning to JavaScript between them. With a few rows and
// several threads the whole token is one OpenMP region whose threads split every product by columns and meet at a
// spinning barrier (one sentence streams ~19 MB of weights a token, the small model, so this is a memory-bound
// pass over the weights).
#include "kernels/decoder_step.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/activations.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"
#include "kernels/spin_barrier.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

/** Scratch of one step, kept between calls (shared by the threads of the step's region). */
struct Scratch {
  std::vector<float> x, in, sum, qkv, attn, y, hidden, mask, scores, stats;
  std::vector<double> partial;  // per-thread maxima and sums of the log-softmax over a split row
  SpinBarrier barrier;          // of the step's region
};

/** Inside the step's parallel region, waits for every thread of it; outside, returns at once. */
void teamBarrier(Scratch& s) {
  if (omp_in_parallel()) s.barrier.wait(omp_get_num_threads());
}

/**
 * Runs body(i) for i < count. Inside the step's parallel region (see step) the threads share the iterations and
 * meet at the barrier after them; otherwise they run on a region of their own when `spread`, else on this thread.
 */
template <class Body>
void forAll(Scratch& s, int64_t count, bool spread, Body&& body) {
  if (omp_in_parallel()) {
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < count; i++) body(i);
    teamBarrier(s);
    return;
  }
  parallelIf(spread && count > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < count; i++) body(i);
  });
}

/** Row r of out = LayerNorm(row r of x) (stats: 2 * rows floats of scratch). */
void normRow(const VMath& vm, const DecoderDims& D, int64_t r, const float* x, const float* gamma, const float* beta, float* out, float* stats) {
  vm.layerNormRows({x, gamma, beta, D.d, D.eps, out, stats, stats + D.rows, nullptr, nullptr}, r, r + 1);
}

/**
 * One residual sublayer (§3.1) around x given its output y: post-LN x = LayerNorm(x + y), pre-LN x = x + y (the
 * sublayer then read LayerNorm(x), see sublayerInput).
 */
void closeSublayer(const VMath& vm, const DecoderDims& D, float* x, const float* y, const float* gamma, const float* beta, Scratch& s) {
  forAll(s, D.rows, false, [&](int64_t r) {
    float* xr = x + r * D.d;
    const float* yr = y + r * D.d;
    if (D.normFirst) {
      for (int64_t j = 0; j < D.d; j++) xr[j] += yr[j];
      return;
    }
    float* sum = s.sum.data() + r * D.d;
    for (int64_t j = 0; j < D.d; j++) sum[j] = xr[j] + yr[j];
    normRow(vm, D, r, s.sum.data(), gamma, beta, x, s.stats.data());
  });
}

/** What a sublayer reads: LayerNorm(x) when pre-LN, else x itself. */
const float* sublayerInput(const VMath& vm, const DecoderDims& D, const float* x, const float* gamma, const float* beta, Scratch& s) {
  if (!D.normFirst) return x;
  forAll(s, D.rows, false, [&](int64_t r) { normRow(vm, D, r, x, gamma, beta, s.in.data(), s.stats.data()); });
  return s.in.data();
}

/**
 * The FFN's activation (§3.3: ReLU; or the exact or GPT-2's tanh GELU) over out[0, n), in place, with the
 * elementwise kernel's arithmetic: its scalar functions, and its vector loop for the tanh GELU.
 */
void activate(const VMath& vm, const DecoderDims& D, float* out, int64_t n) {
  switch (D.activation) {
    case kGeluTanh:
      vm.geluTanh(out, out, n);
      return;
    case kGelu:
      for (int64_t i = 0; i < n; i++) out[i] = unaryF<kGelu>(out[i]);
      return;
    default:
      for (int64_t i = 0; i < n; i++) out[i] = unaryF<kRelu>(out[i]);
  }
}

/**
 * out (rows x n) = x W^T + bias for x (rows x k) and a Linear weight W [n, k], then the FFN's activation when
 * `act`. Inside the step's region each thread takes its run of columns (teamColumns) on smallGemmNT; otherwise
 * linearRows picks the kernel. False when oneDNN fails.
 */
bool project(const VMath& vm, const DecoderDims& D, const float* x, int64_t k, const float* w, int64_t n, const float* bias, float* out, bool act,
             Scratch& s) {
  if (!omp_in_parallel()) {
    if (!linearRows(x, D.rows, k, w, n, bias, out)) return false;
    if (act) activate(vm, D, out, D.rows * n);
    return true;
  }
  int64_t j0, j1;
  teamColumns(n, &j0, &j1);
  if (j0 < j1) {
    vm.smallGemmNT({x, k, w, k, bias, out, n, D.rows, k, 1.0f, 0.0f}, j0, j1);
    for (int64_t r = 0; act && r < D.rows; r++) activate(vm, D, out + r * n + j0, j1 - j0);
  }
  teamBarrier(s);
  return true;
}

/**
 * attn (rows, h * dK) = eq. (1) for one query per row and head over n keys of k and v, (rows, h, positions, dK);
 * masks (rows, n) additive or nullptr. With `append`, each (row, head) first writes this position's key and value
 * (from qkv, at n - 1) into k and v. The (row, head) pairs are spread over the threads.
 */
void attendAll(const VMath& vm, const DecoderDims& D, const float* q, int64_t ldq, float* k, float* v, int64_t positions,
               int64_t n, const float* masks, bool append, Scratch& s) {
  const int64_t pairs = D.rows * D.h;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D.dk)));
  forAll(s, pairs, pairs * n * D.dk >= kParallelGrain, [&](int64_t p) {
    const int64_t r = p / D.h;
    const int64_t head = p % D.h;
    const int64_t at = p * positions * D.dk;  // (r, head, 0, 0) of k and v
    const float* qr = q + r * ldq + head * D.dk;
    if (append) {  // qkv row r holds q, k, v of every head one after another
      std::copy(qr + D.d, qr + D.d + D.dk, k + at + (n - 1) * D.dk);
      std::copy(qr + 2 * D.d, qr + 2 * D.d + D.dk, v + at + (n - 1) * D.dk);
    }
    vm.attendRow(qr, k + at, v + at, D.dk, n, D.dk, scale, masks == nullptr ? nullptr : masks + r * n, s.scores.data() + p * n,
                 s.attn.data() + r * D.d + head * D.dk);
  });
}

/**
 * out = log-softmax of each row of logits in place. Inside the step's region with fewer rows than threads (one
 * sentence), each row's vocabulary is split over the threads: maxima, then sums of exps, then the shift, a
 * barrier between; otherwise whole rows go to softmaxRow.
 */
void logSoftmaxRows(const VMath& vm, const DecoderDims& D, float* out, Scratch& s) {
  const int64_t threads = omp_in_parallel() ? omp_get_num_threads() : 1;
  if (D.rows >= threads) {
    forAll(s, D.rows, D.rows > 1 && D.rows * D.vocab >= kParallelGrain, [&](int64_t r) {
      vm.softmaxRow(out + r * D.vocab, nullptr, 0, D.vocab, 1.0f, true, out + r * D.vocab);
    });
    return;
  }
  const int64_t t = omp_get_thread_num();
  const int64_t parts = (D.vocab + 255) / 256;  // 256-column parts, as softmaxRow sums its exps
  const int64_t j0 = std::min(D.vocab, parts * t / threads * 256);
  const int64_t j1 = std::min(D.vocab, parts * (t + 1) / threads * 256);
  double* maxima = s.partial.data();
  double* sums = maxima + D.rows * threads;
  for (int64_t r = 0; r < D.rows; r++) maxima[r * threads + t] = vm.rowMax(out + r * D.vocab + j0, j1 - j0);
  teamBarrier(s);
  for (int64_t r = 0; r < D.rows; r++) {
    double mx = -INFINITY;
    for (int64_t i = 0; i < threads; i++) mx = std::max(mx, maxima[r * threads + i]);
    if (mx == -INFINITY) mx = 0.0;  // every logit -inf: as softmaxRow, exps of 0
    double all;
    vm.ceStats(out + r * D.vocab + j0, j1 - j0, mx, &sums[r * threads + t], &all, nullptr);
  }
  teamBarrier(s);
  for (int64_t r = 0; r < D.rows; r++) {
    double mx = -INFINITY;
    double sum = 0.0;
    for (int64_t i = 0; i < threads; i++) {
      mx = std::max(mx, maxima[r * threads + i]);
      sum += sums[r * threads + i];
    }
    if (mx == -INFINITY) mx = 0.0;
    const float lse = static_cast<float>(static_cast<float>(mx) + std::log(sum));
    float* row = out + r * D.vocab;
    for (int64_t j = j0; j < j1; j++) row[j] -= lse;
  }
}

/**
 * The step's arithmetic (§3.1): run by every thread of the step's region, sharing each kernel's work, or by the
 * calling thread alone, each kernel then parallel on its own. False when oneDNN fails (never inside the region).
 */
bool stepBody(const DecoderStepArgs& g, Scratch& s) {
  const DecoderDims& D = g.dims;
  const VMath& vm = vmath();
  float* x = s.x.data();
  forAll(s, D.rows, false, [&](int64_t r) {  // token embedding * sqrt(d_model) (§3.4) + PE(past) (§3.5), padding mask
    const float* e = g.embedding + static_cast<int64_t>(g.ids[r]) * D.d;
    for (int64_t j = 0; j < D.d; j++) x[r * D.d + j] = e[j] * g.embedScale + g.positional[D.past * D.d + j];
    for (int64_t j = 0; j < D.src; j++) s.mask[r * D.src + j] = g.srcPad[r * D.src + j] != 0.0f ? -INFINITY : 0.0f;
  });
  for (const DecoderLayerRef& w : g.layers) {
    // Masked self-attention: this position's keys and values join the cache, the query sees positions 0..past.
    const float* in = sublayerInput(vm, D, x, w.norm1G, w.norm1B, s);
    if (!project(vm, D, in, D.d, w.selfInW, 3 * D.d, w.selfInB, s.qkv.data(), false, s)) return false;
    attendAll(vm, D, s.qkv.data(), 3 * D.d, w.selfK, w.selfV, D.capacity, D.past + 1, nullptr, true, s);
    if (!project(vm, D, s.attn.data(), D.d, w.selfOutW, D.d, w.selfOutB, s.y.data(), false, s)) return false;
    closeSublayer(vm, D, x, s.y.data(), w.norm1G, w.norm1B, s);
    if (D.cross) {  // encoder-decoder attention over the memory's cached keys and values, padding masked
      in = sublayerInput(vm, D, x, w.norm2G, w.norm2B, s);
      if (!project(vm, D, in, D.d, w.crossQW, D.d, w.crossQB, s.qkv.data(), false, s)) return false;
      attendAll(vm, D, s.qkv.data(), D.d, w.crossK, w.crossV, D.src, D.src, s.mask.data(), false, s);
      if (!project(vm, D, s.attn.data(), D.d, w.crossOutW, D.d, w.crossOutB, s.y.data(), false, s)) return false;
      closeSublayer(vm, D, x, s.y.data(), w.norm2G, w.norm2B, s);
    }
    // Position-wise FFN, eq. (2).
    in = sublayerInput(vm, D, x, w.norm3G, w.norm3B, s);
    if (!project(vm, D, in, D.d, w.ff1W, D.ff, w.ff1B, s.hidden.data(), true, s)) return false;
    if (!project(vm, D, s.hidden.data(), D.ff, w.ff2W, D.d, w.ff2B, s.y.data(), false, s)) return false;
    closeSublayer(vm, D, x, s.y.data(), w.norm3G, w.norm3B, s);
  }
  if (g.finalGamma != nullptr) {
    forAll(s, D.rows, false, [&](int64_t r) { normRow(vm, D, r, x, g.finalGamma, g.finalBeta, s.in.data(), s.stats.data()); });
    x = s.in.data();
  }
  if (!project(vm, D, x, D.d, g.generatorW, D.vocab, g.generatorB, g.out, false, s)) return false;
  logSoftmaxRows(vm, D, g.out, s);
  return true;
}

/**
 * Whether the whole step runs as one parallel region: with threads to share and every product on smallGemmNT
 * (a few rows), one region and about 40 barriers a token replace a region per product (about 20), and the
 * threads stay on their own columns of each weight.
 */
bool oneRegion(const DecoderDims& D) {
  return omp_get_max_threads() > 1 && linearOnSmallGemm(D.rows, 3 * D.d, D.d, D.d) && linearOnSmallGemm(D.rows, D.d, D.d, D.d) &&
         linearOnSmallGemm(D.rows, D.ff, D.d, D.d) && linearOnSmallGemm(D.rows, D.d, D.ff, D.ff) && linearOnSmallGemm(D.rows, D.vocab, D.d, D.d);
}

}  // namespace

std::string decoderStep(const DecoderStepArgs& g) {
  static thread_local Scratch s;
  const DecoderDims& D = g.dims;
  if (D.rows == 0) return "";
  const int64_t rd = D.rows * D.d;
  const int64_t keys = std::max(D.past + 1, D.src);
  s.x.resize(rd); s.in.resize(rd); s.sum.resize(rd); s.attn.resize(rd); s.y.resize(rd);
  s.qkv.resize(3 * rd); s.hidden.resize(D.rows * D.ff); s.mask.resize(D.rows * D.src);
  s.scores.resize(D.rows * D.h * keys); s.stats.resize(2 * D.rows);
  s.partial.resize(2 * D.rows * omp_get_max_threads());
  if (oneRegion(D)) {
    Scratch* shared = &s;  // this thread's scratch: inside the region, `s` would name each thread's own
#pragma omp parallel
    stepBody(g, *shared);  // smallGemmNT cannot fail
    return "";
  }
  return stepBody(g, s) ? "" : "dnnl_sgemm failed";
}

}  // namespace aiayn
