// One token of the Transformer decoder (§3.1) for every row of a batch, with key/value caches, in one call:
// what TransformerDecoder.step otherwise computes through about 60 kernel calls a token, without returning to
// JavaScript between them. With a few rows and several threads the whole token is one OpenMP region whose
// threads split every product by columns and meet at a spinning barrier (one sentence streams ~19 MB of weights
// a token, the small model, so this is a memory-bound pass over the weights). Operands and semantics:
// Backend.decoderStep in src/backend/backend.ts; the order of the tensor arguments:
// src/backend/native/index.ts (decoderStepTensors).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include <omp.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common.h"
#include "vmath.h"

namespace aiayn {
namespace {

/** Tensors before the layers: token embedding table, PE row, generator weight and bias, final norm, source padding. */
enum Head { kEmbedding, kPositional, kGeneratorW, kGeneratorB, kFinalGamma, kFinalBeta, kSrcPad, kHeadTensors };

/** Tensors of one layer, in order. */
enum Layer {
  kSelfInW, kSelfInB, kSelfOutW, kSelfOutB, kNorm1G, kNorm1B,
  kCrossQW, kCrossQB, kCrossOutW, kCrossOutB, kNorm2G, kNorm2B,
  kFf1W, kFf1B, kFf2W, kFf2B, kNorm3G, kNorm3B,
  kSelfK, kSelfV, kCrossK, kCrossV, kLayerTensors
};

/** Names of the head tensors, for error messages. */
const char* const kHeadNames[kHeadTensors] = {"embedding", "positional", "generator weight", "generator bias", "final norm weight",
                                              "final norm bias", "srcPad"};

/** Names of one layer's tensors, for error messages. */
const char* const kLayerNames[kLayerTensors] = {
    "self in_proj weight", "self in_proj bias", "self out_proj weight", "self out_proj bias", "norm1 weight", "norm1 bias",
    "cross query weight", "cross query bias", "cross out_proj weight", "cross out_proj bias", "norm2 weight", "norm2 bias",
    "linear1 weight", "linear1 bias", "linear2 weight", "linear2 bias", "norm3 weight", "norm3 bias",
    "self keys", "self values", "cross keys", "cross values"};

/** Sizes of one step. */
struct Dims {
  int64_t rows, d, h, dk, ff, vocab, src, past, capacity;
  bool normFirst, gelu;
  double eps;
};

/**
 * The barrier of the step's region: arrivals counted, the last one advancing a generation the others spin on
 * (yielding the core after a while, so a thread the OS took away can come back). About 40 a token: libgomp's
 * barrier took ~1.5 us each here on 2 threads, this one ~0.5 (standalone, 40 in a region: 60 against 21 us).
 */
class SpinBarrier {
 public:
  /** Returns once `threads` threads have called it (for this generation). */
  void wait(int64_t threads) {
    const uint32_t generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == threads - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.store(generation + 1, std::memory_order_release);
      return;
    }
    for (int64_t spins = 0; generation_.load(std::memory_order_acquire) == generation; spins++) {
      if (spins < kSpins) {
#if defined(__x86_64__)
        _mm_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  /** Pauses before a waiting thread starts yielding its core (a few hundred microseconds). */
  static constexpr int64_t kSpins = int64_t(1) << 14;
  alignas(64) std::atomic<int64_t> arrived_{0};
  alignas(64) std::atomic<uint32_t> generation_{0};
};

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
void normRow(const VMath& vm, const Dims& D, int64_t r, const float* x, const float* gamma, const float* beta, float* out, float* stats) {
  vm.layerNormRows({x, gamma, beta, D.d, D.eps, out, stats, stats + D.rows, nullptr, nullptr}, r, r + 1);
}

/**
 * One residual sublayer (§3.1) around x given its output y: post-LN x = LayerNorm(x + y), pre-LN x = x + y (the
 * sublayer then read LayerNorm(x), see sublayerInput).
 */
void closeSublayer(const VMath& vm, const Dims& D, float* x, const float* y, const float* gamma, const float* beta, Scratch& s) {
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
const float* sublayerInput(const VMath& vm, const Dims& D, const float* x, const float* gamma, const float* beta, Scratch& s) {
  if (!D.normFirst) return x;
  forAll(s, D.rows, false, [&](int64_t r) { normRow(vm, D, r, x, gamma, beta, s.in.data(), s.stats.data()); });
  return s.in.data();
}

/** The FFN's activation (§3.3: ReLU; or the exact GELU, as the elementwise kernel computes it) over out[0, n). */
void activate(const Dims& D, float* out, int64_t n) {
  if (D.gelu) {
    for (int64_t i = 0; i < n; i++) {
      const double v = out[i];
      out[i] = static_cast<float>(0.5 * v * std::erfc(-v * M_SQRT1_2));
    }
  } else {
    for (int64_t i = 0; i < n; i++) out[i] = out[i] > 0.0f ? out[i] : 0.0f;
  }
}

/**
 * out (rows x n) = x W^T + bias for x (rows x k) and a Linear weight W [n, k], then the FFN's activation when
 * `act`. Inside the step's region each thread takes its run of columns (teamColumns) on smallGemmNT; otherwise
 * linearRows picks the kernel. False when oneDNN fails.
 */
bool project(const VMath& vm, const Dims& D, const float* x, int64_t k, const float* w, int64_t n, const float* bias, float* out, bool act,
             Scratch& s) {
  if (!omp_in_parallel()) {
    if (!linearRows(x, D.rows, k, w, n, bias, out)) return false;
    if (act) activate(D, out, D.rows * n);
    return true;
  }
  int64_t j0, j1;
  teamColumns(n, &j0, &j1);
  if (j0 < j1) {
    vm.smallGemmNT({x, k, w, k, bias, out, n, D.rows, k, 1.0f, 0.0f}, j0, j1);
    for (int64_t r = 0; act && r < D.rows; r++) activate(D, out + r * n + j0, j1 - j0);
  }
  teamBarrier(s);
  return true;
}

/**
 * attn (rows, h * dK) = eq. (1) for one query per row and head over n keys of k and v, (rows, h, positions, dK);
 * masks (rows, n) additive or nullptr. With `append`, each (row, head) first writes this position's key and value
 * (from qkv, at n - 1) into k and v. The (row, head) pairs are spread over the threads.
 */
void attendAll(const VMath& vm, const Dims& D, const float* q, int64_t ldq, float* k, float* v, int64_t positions,
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
void logSoftmaxRows(const VMath& vm, const Dims& D, float* out, Scratch& s) {
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
bool stepBody(const Dims& D, const int32_t* ids, float embedScale, const std::vector<F32>& t, float* out, Scratch& s) {
  const VMath& vm = vmath();
  float* x = s.x.data();
  forAll(s, D.rows, false, [&](int64_t r) {  // token embedding * sqrt(d_model) (§3.4) + PE(past) (§3.5), padding mask
    const float* e = t[kEmbedding].data + static_cast<int64_t>(ids[r]) * D.d;
    for (int64_t j = 0; j < D.d; j++) x[r * D.d + j] = e[j] * embedScale + t[kPositional].data[j];
    for (int64_t j = 0; j < D.src; j++) s.mask[r * D.src + j] = t[kSrcPad].data[r * D.src + j] != 0.0f ? -INFINITY : 0.0f;
  });
  const size_t layers = (t.size() - kHeadTensors) / kLayerTensors;
  for (size_t l = 0; l < layers; l++) {
    const F32* w = t.data() + kHeadTensors + l * kLayerTensors;
    // Masked self-attention: this position's keys and values join the cache, the query sees positions 0..past.
    const float* in = sublayerInput(vm, D, x, w[kNorm1G].data, w[kNorm1B].data, s);
    if (!project(vm, D, in, D.d, w[kSelfInW].data, 3 * D.d, w[kSelfInB].data, s.qkv.data(), false, s)) return false;
    attendAll(vm, D, s.qkv.data(), 3 * D.d, w[kSelfK].data, w[kSelfV].data, D.capacity, D.past + 1, nullptr, true, s);
    if (!project(vm, D, s.attn.data(), D.d, w[kSelfOutW].data, D.d, w[kSelfOutB].data, s.y.data(), false, s)) return false;
    closeSublayer(vm, D, x, s.y.data(), w[kNorm1G].data, w[kNorm1B].data, s);
    // Encoder-decoder attention over the memory's cached keys and values, padding masked.
    in = sublayerInput(vm, D, x, w[kNorm2G].data, w[kNorm2B].data, s);
    if (!project(vm, D, in, D.d, w[kCrossQW].data, D.d, w[kCrossQB].data, s.qkv.data(), false, s)) return false;
    attendAll(vm, D, s.qkv.data(), D.d, w[kCrossK].data, w[kCrossV].data, D.src, D.src, s.mask.data(), false, s);
    if (!project(vm, D, s.attn.data(), D.d, w[kCrossOutW].data, D.d, w[kCrossOutB].data, s.y.data(), false, s)) return false;
    closeSublayer(vm, D, x, s.y.data(), w[kNorm2G].data, w[kNorm2B].data, s);
    // Position-wise FFN, eq. (2).
    in = sublayerInput(vm, D, x, w[kNorm3G].data, w[kNorm3B].data, s);
    if (!project(vm, D, in, D.d, w[kFf1W].data, D.ff, w[kFf1B].data, s.hidden.data(), true, s)) return false;
    if (!project(vm, D, s.hidden.data(), D.ff, w[kFf2W].data, D.d, w[kFf2B].data, s.y.data(), false, s)) return false;
    closeSublayer(vm, D, x, s.y.data(), w[kNorm3G].data, w[kNorm3B].data, s);
  }
  if (t[kFinalGamma].length > 0) {
    forAll(s, D.rows, false, [&](int64_t r) { normRow(vm, D, r, x, t[kFinalGamma].data, t[kFinalBeta].data, s.in.data(), s.stats.data()); });
    x = s.in.data();
  }
  if (!project(vm, D, x, D.d, t[kGeneratorW].data, D.vocab, t[kGeneratorB].data, out, false, s)) return false;
  logSoftmaxRows(vm, D, out, s);
  return true;
}

/**
 * Whether the whole step runs as one parallel region: with threads to share and every product on smallGemmNT
 * (a few rows), one region and about 40 barriers a token replace a region per product (about 20), and the
 * threads stay on their own columns of each weight.
 */
bool oneRegion(const Dims& D) {
  return omp_get_max_threads() > 1 && linearOnSmallGemm(D.rows, 3 * D.d, D.d, D.d) && linearOnSmallGemm(D.rows, D.d, D.d, D.d) &&
         linearOnSmallGemm(D.rows, D.ff, D.d, D.d) && linearOnSmallGemm(D.rows, D.d, D.ff, D.ff) && linearOnSmallGemm(D.rows, D.vocab, D.d, D.d);
}

/** The step; returns an error message, empty on success. */
std::string step(const Dims& D, const int32_t* ids, float embedScale, const std::vector<F32>& t, float* out) {
  static thread_local Scratch s;
  const int64_t rd = D.rows * D.d;
  const int64_t keys = std::max(D.past + 1, D.src);
  s.x.resize(rd); s.in.resize(rd); s.sum.resize(rd); s.attn.resize(rd); s.y.resize(rd);
  s.qkv.resize(3 * rd); s.hidden.resize(D.rows * D.ff); s.mask.resize(D.rows * D.src);
  s.scores.resize(D.rows * D.h * keys); s.stats.resize(2 * D.rows);
  s.partial.resize(2 * D.rows * omp_get_max_threads());
  if (oneRegion(D)) {
    Scratch* shared = &s;  // this thread's scratch: inside the region, `s` would name each thread's own
#pragma omp parallel
    stepBody(D, ids, embedScale, t, out, *shared);  // smallGemmNT cannot fail
    return "";
  }
  return stepBody(D, ids, embedScale, t, out, s) ? "" : "dnnl_sgemm failed";
}

/**
 * decoderStep(dims [rows, dModel, heads, dFF, vocab, srcLen, past, capacity], normFirst, gelu, eps, ids,
 * embedScale, out, ...tensors): see Backend.decoderStep; the tensors follow as arguments of their own (read
 * without an array's element lookups). Every tensor's length is checked against the dims.
 */
Napi::Value DecoderStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<int64_t> dims = argShape(info, 0, "dims");
  if (dims.size() != 8) fail(env, "decoderStep: dims needs 8 sizes", true);
  Dims D{dims[0], dims[1], dims[2], 0, dims[3], dims[4], dims[5], dims[6], dims[7], argBool(info, 1, "normFirst"),
         argBool(info, 2, "gelu"), argNumber(info, 3, "eps")};
  if (D.d < 1 || D.h < 1 || D.d % D.h != 0) fail(env, "decoderStep: dModel must be a positive multiple of heads", true);
  if (D.ff < 1 || D.vocab < 1 || D.src < 1) fail(env, "decoderStep: dFF, vocab and srcLen must be positive", true);
  if (D.past >= D.capacity) fail(env, "decoderStep: the self-attention cache has no room for position " + std::to_string(D.past), true);
  D.dk = D.d / D.h;
  const I32 ids = argI32(info, 4, "ids");
  const float embedScale = static_cast<float>(argNumber(info, 5, "embedScale"));
  constexpr size_t kFirstTensor = 7;
  const size_t count = info.Length() > kFirstTensor ? info.Length() - kFirstTensor : 0;
  if (count < kHeadTensors + kLayerTensors || (count - kHeadTensors) % kLayerTensors != 0) {
    fail(env, "decoderStep: needs " + std::to_string(kHeadTensors) + " + " + std::to_string(kLayerTensors) +
              " per layer Float32Arrays after 'out', got " + std::to_string(count), true);
  }
  std::vector<F32> t(count);
  for (size_t i = 0; i < count; i++) {
    t[i] = argF32(info, kFirstTensor + i, i < kHeadTensors ? kHeadNames[i] : kLayerNames[(i - kHeadTensors) % kLayerTensors]);
  }
  F32 out = argF32(info, 6, "out");
  const int64_t d = D.d;
  needLength(env, ids.length, D.rows, "ids");
  const int64_t tableRows = t[kEmbedding].length / d;
  for (int64_t r = 0; r < D.rows; r++) {
    if (ids.data[r] < 0 || ids.data[r] >= tableRows) {
      fail(env, "decoderStep: token id " + std::to_string(ids.data[r]) + " is outside the embedding table of " +
                std::to_string(tableRows) + " rows", true);
    }
  }
  needLength(env, t[kPositional].length, d, "positional");
  needLength(env, t[kGeneratorW].length, product(env, {D.vocab, d}), "generator weight");
  needLength(env, t[kGeneratorB].length, D.vocab, "generator bias");
  if (t[kFinalGamma].length > 0 || t[kFinalBeta].length > 0) {
    needLength(env, t[kFinalGamma].length, d, "final norm weight");
    needLength(env, t[kFinalBeta].length, d, "final norm bias");
  }
  needLength(env, t[kSrcPad].length, product(env, {D.rows, D.src}), "srcPad");
  const int64_t need[kLayerTensors] = {
      3 * d * d, 3 * d, d * d, d, d, d, d * d, d, d * d, d, d, d, D.ff * d, D.ff, d * D.ff, d, d, d,
      product(env, {D.rows, d, D.capacity}), product(env, {D.rows, d, D.capacity}), product(env, {D.rows, d, D.src}),
      product(env, {D.rows, d, D.src})};
  for (uint32_t i = kHeadTensors; i < count; i++) needLength(env, t[i].length, need[(i - kHeadTensors) % kLayerTensors], kLayerNames[(i - kHeadTensors) % kLayerTensors]);
  needLength(env, out.length, product(env, {D.rows, D.vocab}), "out");
  if (D.rows == 0) return env.Undefined();
  const std::string error = step(D, ids.data, embedScale, t, out.data);
  if (!error.empty()) fail(env, "decoderStep: " + error, true);
  return env.Undefined();
}

}  // namespace

void initDecoderStep(Napi::Env env, Napi::Object exports) {
  exports.Set("decoderStep", Napi::Function::New(env, DecoderStep, "decoderStep"));
}

}  // namespace aiayn
