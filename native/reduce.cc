// Reductions over the middle axis of [outer, n, inner]: sum (accumulated in double) and max (NaN wins), plus
// argmax (first maximum wins, NaN never does), matching the TypeScript oracle.
#include <cmath>
#include <limits>

#include "common.h"
#include "vmath.h"

namespace aiayn {
namespace {

const char* const kReduceOps[] = {"sum", "max"};
constexpr int64_t kBlock = 64;  // columns per task (VMath::sumColumns takes up to 64): a bias gradient (n = rows, inner = 256) still splits over threads

/** Maximum over j of x[o, j, i0:i0+len] into out[o, i0:i0+len] (sums take VMath::sumColumns). */
void maxBlock(const float* x, int64_t n, int64_t inner, int64_t len, float* out) {
  double acc[kBlock];
  for (int64_t i = 0; i < len; i++) acc[i] = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < n; j++) {
    const float* row = x + j * inner;
    for (int64_t i = 0; i < len; i++) {
      const double v = row[i];
      if (v > acc[i] || std::isnan(v)) acc[i] = v;
    }
  }
  for (int64_t i = 0; i < len; i++) out[i] = static_cast<float>(acc[i]);
}

/** Sums each contiguous row of x [outer, n] (the inner == 1 case) with a vectorised double accumulator. */
void sumRows(const float* x, int64_t outer, int64_t n, float* out) {
  parallelIf(outer * n >= kParallelGrain && outer > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t o = 0; o < outer; o++) {
      const float* row = x + o * n;
      double acc = 0.0;
#pragma omp simd reduction(+ : acc)
      for (int64_t j = 0; j < n; j++) acc += row[j];
      out[o] = static_cast<float>(acc);
    }
  });
}

/** Sum or max over n of x [outer, n, inner], threaded over (outer, inner block) pairs. */
template <bool SUM>
void reduceAll(const float* x, int64_t outer, int64_t n, int64_t inner, float* out) {
  if (SUM && inner == 1) return sumRows(x, outer, n, out);
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  const VMath& vm = vmath();
  parallelIf(outer * n * inner >= kParallelGrain && outer * blocks > 1, [&] {
#pragma omp for collapse(2) schedule(static) nowait
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t bl = 0; bl < blocks; bl++) {
        const int64_t i0 = bl * kBlock;
        const int64_t len = inner - i0 < kBlock ? inner - i0 : kBlock;
        if (SUM) vm.sumColumns(x + o * n * inner + i0, n, inner, len, out + o * inner + i0);
        else maxBlock(x + o * n * inner + i0, n, inner, len, out + o * inner + i0);
      }
    }
  });
}

/** reduce(op, x, outer, n, inner, out) */
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int op = argOp(info, 0, 2, "reduce op");
  F32 x = argF32(info, 1, "x");
  int64_t outer = argSize(info, 2, "outer");
  int64_t n = argSize(info, 3, "n");
  int64_t inner = argSize(info, 4, "inner");
  F32 out = argF32(info, 5, "out");
  needLength(env, x.length, product(env, {outer, n, inner}), "x");
  needLength(env, out.length, product(env, {outer, inner}), "out");
  if (op == 0) reduceAll<true>(x.data, outer, n, inner, out.data);
  else reduceAll<false>(x.data, outer, n, inner, out.data);
  return env.Undefined();
}

/** argmax(x, outer, n, inner, out: Int32Array) */
Napi::Value Argmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32 x = argF32(info, 0, "x");
  int64_t outer = argSize(info, 1, "outer");
  int64_t n = argSize(info, 2, "n");
  int64_t inner = argSize(info, 3, "inner");
  I32 out = argI32(info, 4, "out");
  needLength(env, x.length, product(env, {outer, n, inner}), "x");
  needLength(env, out.length, product(env, {outer, inner}), "out");
  if (n > 2147483647) fail(env, "argmax axis too long for Int32 indices", true);
  const float* xd = x.data;
  int32_t* od = out.data;
  parallelIf(outer * n * inner >= kParallelGrain, [&] {
#pragma omp for collapse(2) schedule(static) nowait
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t i = 0; i < inner; i++) {
        const float* p = xd + o * n * inner + i;
        float best = -std::numeric_limits<float>::infinity();
        int32_t at = 0;
        for (int64_t j = 0; j < n; j++) {
          if (p[j * inner] > best) {
            best = p[j * inner];
            at = static_cast<int32_t>(j);
          }
        }
        od[o * inner + i] = at;
      }
    }
  });
  return env.Undefined();
}

}  // namespace

void initReduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduceOps", opNames(env, kReduceOps, 2));
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("argmax", Napi::Function::New(env, Argmax, "argmax"));
}

}  // namespace aiayn
