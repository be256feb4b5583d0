// Reductions (see reduce.h).
#include "kernels/reduce.h"

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/parallel.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

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

/** Sum of squares (each in float, as the ts oracle) over j of x[o, j, i0:i0+len] into out[o, i0:i0+len], in double. */
void sumSquaresBlock(const float* x, int64_t n, int64_t inner, int64_t len, float* out) {
  double acc[kBlock] = {};
  for (int64_t j = 0; j < n; j++) {
    const float* row = x + j * inner;
    for (int64_t i = 0; i < len; i++) acc[i] += static_cast<double>(row[i] * row[i]);
  }
  for (int64_t i = 0; i < len; i++) out[i] = static_cast<float>(acc[i]);
}

/** The sum (or sum of squares, each square in float) of n contiguous floats with a vectorised double accumulator. */
template <bool SQUARES>
double rowSum(const float* x, int64_t n) {
  double acc = 0.0;
  if (SQUARES) {
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < n; j++) acc += static_cast<double>(x[j] * x[j]);
  } else {
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < n; j++) acc += x[j];
  }
  return acc;
}

/** Floats of a long row summed as one piece: a single row splits over the threads in pieces of this size. */
constexpr int64_t kRowPiece = 1 << 16;

/**
 * Sums (or sums of squares) of each contiguous row of x [outer, n] (the inner == 1 case), in double. Rows spread
 * over the threads; a single long row (a whole gradient's sum of squares) splits into fixed pieces summed in order,
 * the same total at any thread count.
 */
template <bool SQUARES>
void sumRows(const float* x, int64_t outer, int64_t n, float* out) {
  if (outer == 1 && n >= 2 * kRowPiece) {
    const int64_t pieces = (n + kRowPiece - 1) / kRowPiece;
    std::vector<double> part(static_cast<size_t>(pieces));
    parallelIf(true, [&] {
#pragma omp for schedule(static) nowait
      for (int64_t c = 0; c < pieces; c++) part[c] = rowSum<SQUARES>(x + c * kRowPiece, std::min(kRowPiece, n - c * kRowPiece));
    });
    double total = 0.0;
    for (const double v : part) total += v;
    out[0] = static_cast<float>(total);
    return;
  }
  parallelIf(outer * n >= kParallelGrain && outer > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t o = 0; o < outer; o++) out[o] = static_cast<float>(rowSum<SQUARES>(x + o * n, n));
  });
}

/** Sum, max or sum of squares over n of x [outer, n, inner], threaded over (outer, inner block) pairs. */
template <int OP>
void reduceAll(const float* x, int64_t outer, int64_t n, int64_t inner, float* out) {
  if (OP != kMax && inner == 1) return sumRows<OP == kSumSquares>(x, outer, n, out);
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  const VMath& vm = vmath();
  parallelIf(outer * n * inner >= kParallelGrain && outer * blocks > 1, [&] {
#pragma omp for collapse(2) schedule(static) nowait
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t bl = 0; bl < blocks; bl++) {
        const int64_t i0 = bl * kBlock;
        const int64_t len = inner - i0 < kBlock ? inner - i0 : kBlock;
        const float* xo = x + o * n * inner + i0;
        float* oo = out + o * inner + i0;
        if (OP == kSum) vm.sumColumns(xo, n, inner, len, oo);
        else if (OP == kSumSquares) sumSquaresBlock(xo, n, inner, len, oo);
        else maxBlock(xo, n, inner, len, oo);
      }
    }
  });
}

}  // namespace

void reduce(const ReduceArgs& g) {
  if (g.op == kSum) reduceAll<kSum>(g.in.x, g.in.outer, g.in.n, g.in.inner, g.out);
  else if (g.op == kSumSquares) reduceAll<kSumSquares>(g.in.x, g.in.outer, g.in.n, g.in.inner, g.out);
  else reduceAll<kMax>(g.in.x, g.in.outer, g.in.n, g.in.inner, g.out);
}

void argmax(const ArgmaxArgs& g) {
  const float* xd = g.in.x;
  int32_t* od = g.out;
  const int64_t outer = g.in.outer, n = g.in.n, inner = g.in.inner;
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
}

}  // namespace aiayn
