// Elementwise kernels (see elementwise.h). Transcendentals are evaluated in double (as the TypeScript oracle
// does) and stored as float; exp and sigmoid use the vectorised loops of simd/.
#include "kernels/elementwise.h"

#include <algorithm>
#include <type_traits>

#include "kernels/parallel.h"
#include "simd/vmath.h"

namespace aiayn {
namespace {

/** a op b for binary op OP (float add/sub/mul/div round exactly like double-then-float). */
template <int OP>
inline float binaryF(float a, float b) {
  switch (OP) {
    case kAdd: return a + b;
    case kSub: return a - b;
    case kMul: return a * b;
    case kDiv: return a / b;
    case kPow: return static_cast<float>(std::pow(static_cast<double>(a), static_cast<double>(b)));
    case kMaximum: return (a >= b || a != a) ? a : b;
    case kMinimum: return (a <= b || a != a) ? a : b;
    case kEq: return a == b ? 1.0f : 0.0f;
    case kNe: return a != b ? 1.0f : 0.0f;
    case kLt: return a < b ? 1.0f : 0.0f;
    case kLe: return a <= b ? 1.0f : 0.0f;
    case kGt: return a > b ? 1.0f : 0.0f;
    default: return a >= b ? 1.0f : 0.0f;
  }
}

/** out[i] = f(x[i]) for unary op OP, threaded when large. */
template <int OP>
void unaryLoop(const float* x, float* out, int64_t n) {
  parallelIf(n >= kParallelGrain, [&] {
#pragma omp for simd nowait
    for (int64_t i = 0; i < n; i++) out[i] = unaryF<OP>(x[i]);
  });
}

/** Runs a vmath loop over n elements, split across threads in contiguous chunks when large. */
void vectorLoop(void (*loop)(const float*, float*, int64_t), const float* x, float* out, int64_t n) {
  parallelIf(n >= kParallelGrain, [&] {
    int64_t b, e;
    teamRange(n, &b, &e);
    loop(x + b, out + b, e - b);
  });
}

/** dx[i] = dy[i] * f'(x[i]) for unary op OP, threaded when large. */
template <int OP>
void unaryBackwardLoop(const float* x, const float* y, const float* dy, float* dx, int64_t n) {
  parallelIf(n >= kParallelGrain, [&] {
#pragma omp for simd nowait
    for (int64_t i = 0; i < n; i++) dx[i] = static_cast<float>(dy[i] * unaryD<OP>(x[i], y[i]));
  });
}

/** out = a op b over a merged layout, with vector loops for the dense and scalar-broadcast runs. */
template <int OP>
void binaryLoop(const Layout<3>& l, const float* a, const float* b, float* out) {
  forEachRun(l, [&](int64_t len, const std::array<int64_t, 3>& off, const std::array<int64_t, 3>& st) {
    const float* pa = a + off[0];
    const float* pb = b + off[1];
    float* po = out + off[2];
    if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
      for (int64_t j = 0; j < len; j++) po[j] = binaryF<OP>(pa[j], pb[j]);
    } else if (st[0] == 1 && st[1] == 0) {
      const float bv = *pb;
#pragma omp simd
      for (int64_t j = 0; j < len; j++) po[j] = binaryF<OP>(pa[j], bv);
    } else if (st[0] == 0 && st[1] == 1) {
      const float av = *pa;
#pragma omp simd
      for (int64_t j = 0; j < len; j++) po[j] = binaryF<OP>(av, pb[j]);
    } else {
      for (int64_t j = 0; j < len; j++) po[j] = binaryF<OP>(pa[j * st[0]], pb[j * st[1]]);
    }
  });
}

/** Calls fn(std::integral_constant<int, op>) for the runtime op code op < COUNT. */
template <int COUNT, int OP = 0, class Fn>
void dispatchOp(int op, Fn fn) {
  if constexpr (OP < COUNT) {
    if (op == OP) return fn(std::integral_constant<int, OP>{});
    dispatchOp<COUNT, OP + 1>(op, fn);
  }
}

/**
 * Copies a transpose-like layout (src contiguous along dim rank-2, dst along dim rank-1) in 32 x 32 tiles so
 * that both sides stay in cache; false when the layout is not of that kind.
 */
bool copyTiled(const Layout<2>& l, const float* src, float* dst) {
  constexpr int64_t kTile = 32;
  const size_t rank = l.shape.size();
  if (rank < 2 || l.strides[0][rank - 2] != 1 || l.strides[1][rank - 1] != 1 || l.strides[0][rank - 1] == 1) return false;
  const int64_t rows = l.shape[rank - 2];
  const int64_t cols = l.shape[rank - 1];
  const int64_t ss = l.strides[0][rank - 1];
  const int64_t ds = l.strides[1][rank - 2];
  const int64_t outer = l.total / (rows * cols);
  const int64_t rowTiles = (rows + kTile - 1) / kTile;
  parallelIf(l.total >= kParallelGrain, [&] {
#pragma omp for collapse(2) schedule(static) nowait
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t ti = 0; ti < rowTiles; ti++) {
        int64_t so = l.base[0];
        int64_t dOff = l.base[1];
        for (int64_t rest = o, d = static_cast<int64_t>(rank) - 3; d >= 0; d--) {
          so += (rest % l.shape[d]) * l.strides[0][d];
          dOff += (rest % l.shape[d]) * l.strides[1][d];
          rest /= l.shape[d];
        }
        const int64_t i1 = std::min(rows, (ti + 1) * kTile);
        for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
          const int64_t j1 = std::min(cols, j0 + kTile);
          for (int64_t i = ti * kTile; i < i1; i++) {
            for (int64_t j = j0; j < j1; j++) dst[dOff + i * ds + j] = src[so + i + j * ss];
          }
        }
      }
    }
  });
  return true;
}

}  // namespace

void copyStrided(const CopyArgs& g) {
  Layout<2> l = makeLayout<2>(g.shape, {&g.src.strides, &g.dst.strides}, {g.src.offset, g.dst.offset});
  if (copyTiled(l, g.src.data, g.dst.data)) return;
  forEachRun(l, [&](int64_t len, const std::array<int64_t, 2>& off, const std::array<int64_t, 2>& st) {
    const float* s = g.src.data + off[0];
    float* d = g.dst.data + off[1];
    if (st[0] == 1 && st[1] == 1) {
      std::copy(s, s + len, d);
    } else {
      for (int64_t j = 0; j < len; j++) d[j * st[1]] = s[j * st[0]];
    }
  });
}

void unary(const UnaryArgs& g) {
  dispatchOp<kUnaryOpCount>(g.op, [&](auto c) {
    constexpr int OP = decltype(c)::value;
    if constexpr (OP == kExp || OP == kSigmoid || OP == kGeluTanh) {
      vectorLoop(OP == kExp ? vmath().exp : OP == kSigmoid ? vmath().sigmoid : vmath().geluTanh, g.x, g.out, g.n);
    } else {
      unaryLoop<OP>(g.x, g.out, g.n);
    }
  });
}

void unaryBackward(const UnaryBackwardArgs& g) {
  if (g.op == kGeluTanh) {  // a vector loop (vexp) instead of libm's tanh per element
    parallelIf(g.n >= kParallelGrain, [&] {
      int64_t b, e;
      teamRange(g.n, &b, &e);
      vmath().geluTanhGrad(g.x + b, g.dy + b, g.dx + b, e - b);
    });
    return;
  }
  dispatchOp<kUnaryOpCount>(g.op, [&](auto c) { unaryBackwardLoop<decltype(c)::value>(g.x, g.y, g.dy, g.dx, g.n); });
}

void binary(const BinaryArgs& g) {
  auto os = contiguousStrides(g.shape);
  Layout<3> l = makeLayout<3>(g.shape, {&g.a.strides, &g.b.strides, &os}, {g.a.offset, g.b.offset, 0});
  dispatchOp<kBinaryOpCount>(g.op, [&](auto c) { binaryLoop<decltype(c)::value>(l, g.a.data, g.b.data, g.out); });
}

void where(const WhereArgs& g) {
  auto os = contiguousStrides(g.shape);
  Layout<4> l = makeLayout<4>(g.shape, {&g.cond.strides, &g.a.strides, &g.b.strides, &os}, {g.cond.offset, g.a.offset, g.b.offset, 0});
  forEachRun(l, [&](int64_t len, const std::array<int64_t, 4>& off, const std::array<int64_t, 4>& st) {
    const float* pc = g.cond.data + off[0];
    const float* pa = g.a.data + off[1];
    const float* pb = g.b.data + off[2];
    float* po = g.out + off[3];
    for (int64_t j = 0; j < len; j++) po[j] = pc[j * st[0]] != 0.0f ? pa[j * st[1]] : pb[j * st[2]];
  });
}

}  // namespace aiayn
