// Elementwise kernels: strided copy, unary functions and their derivatives, broadcasting binary functions and
// `where`. Transcendentals are evaluated in double (as the TypeScript oracle does) and stored as float; exp and
// sigmoid use the vectorised loops of vmath.h.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "common.h"
#include "strided.h"
#include "vmath.h"

namespace aiayn {
namespace {

const char* const kUnaryOps[] = {"neg", "exp", "log", "sqrt", "tanh", "relu", "sigmoid", "gelu", "geluTanh", "abs"};
const char* const kBinaryOps[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                  "eq", "ne", "lt", "le", "gt", "ge"};
constexpr int kUnaryCount = sizeof(kUnaryOps) / sizeof(kUnaryOps[0]);
constexpr int kBinaryCount = sizeof(kBinaryOps) / sizeof(kBinaryOps[0]);

constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

/** f(x) for unary op OP (exp and sigmoid run in vmath.h's vectorised loops instead). */
template <int OP>
inline float unaryF(float xf) {
  static_assert(OP != 1 && OP != 6, "exp and sigmoid are vmath loops");
  const double x = xf;
  switch (OP) {
    case 0: return -xf;
    case 2: return static_cast<float>(std::log(x));
    case 3: return std::sqrt(xf);
    case 4: return static_cast<float>(std::tanh(x));
    case 5: return xf > 0 ? xf : 0.0f;
    case 7: return static_cast<float>(0.5 * x * std::erfc(-x * kSqrtHalf));
    case 8: return static_cast<float>(0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x))));
    default: return std::fabs(xf);
  }
}

/** f'(x) for unary op OP given x and y = f(x), in double. */
template <int OP>
inline double unaryD(double x, double y) {
  switch (OP) {
    case 0: return -1.0;
    case 1: return y;
    case 2: return 1.0 / x;
    case 3: return 0.5 / y;
    case 4: return 1.0 - y * y;
    case 5: return x > 0 ? 1.0 : 0.0;
    case 6: return y * (1.0 - y);
    case 7: return 0.5 * std::erfc(-x * kSqrtHalf) + x * kInvSqrt2Pi * std::exp(-0.5 * x * x);
    case 8: {
      const double t = std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x));
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * kSqrt2OverPi * (1.0 + 3.0 * 0.044715 * x * x);
    }
    default: return x > 0 ? 1.0 : x < 0 ? -1.0 : x;  // Math.sign: keeps 0, -0 and NaN
  }
}

/** a op b for binary op OP (float add/sub/mul/div round exactly like double-then-float). */
template <int OP>
inline float binaryF(float a, float b) {
  switch (OP) {
    case 0: return a + b;
    case 1: return a - b;
    case 2: return a * b;
    case 3: return a / b;
    case 4: return static_cast<float>(std::pow(static_cast<double>(a), static_cast<double>(b)));
    case 5: return (a >= b || a != a) ? a : b;
    case 6: return (a <= b || a != a) ? a : b;
    case 7: return a == b ? 1.0f : 0.0f;
    case 8: return a != b ? 1.0f : 0.0f;
    case 9: return a < b ? 1.0f : 0.0f;
    case 10: return a <= b ? 1.0f : 0.0f;
    case 11: return a > b ? 1.0f : 0.0f;
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
    const int64_t b = n * omp_get_thread_num() / omp_get_num_threads();
    const int64_t e = n * (omp_get_thread_num() + 1) / omp_get_num_threads();
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

/** copy(srcData, srcOffset, srcStrides, dstData, dstOffset, dstStrides, shape) */
Napi::Value Copy(const Napi::CallbackInfo& info) {
  auto shape = argShape(info, 6, "shape");
  StridedArg src = argStrided(info, 0, shape, "src");
  StridedArg dst = argStrided(info, 3, shape, "dst");
  shapeSize(info.Env(), shape);  // throws when the element count overflows
  Layout<2> l = makeLayout<2>(shape, {&src.strides, &dst.strides}, {src.offset, dst.offset});
  if (copyTiled(l, src.data, dst.data)) return info.Env().Undefined();
  forEachRun(l, [&](int64_t len, const std::array<int64_t, 2>& off, const std::array<int64_t, 2>& st) {
    const float* s = src.data + off[0];
    float* d = dst.data + off[1];
    if (st[0] == 1 && st[1] == 1) {
      std::copy(s, s + len, d);
    } else {
      for (int64_t j = 0; j < len; j++) d[j * st[1]] = s[j * st[0]];
    }
  });
  return info.Env().Undefined();
}

/** unary(op, x, out) */
Napi::Value Unary(const Napi::CallbackInfo& info) {
  int op = argOp(info, 0, kUnaryCount, "unary op");
  F32 x = argF32(info, 1, "x");
  F32 out = argF32(info, 2, "out");
  needLength(info.Env(), out.length, x.length, "out");
  dispatchOp<kUnaryCount>(op, [&](auto c) {
    constexpr int OP = decltype(c)::value;
    if constexpr (OP == 1 || OP == 6) {
      vectorLoop(OP == 1 ? vmath().exp : vmath().sigmoid, x.data, out.data, x.length);
    } else {
      unaryLoop<OP>(x.data, out.data, x.length);
    }
  });
  return info.Env().Undefined();
}

/** unaryBackward(op, x, y, dy, dx) */
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  int op = argOp(info, 0, kUnaryCount, "unary op");
  F32 x = argF32(info, 1, "x");
  F32 y = argF32(info, 2, "y");
  F32 dy = argF32(info, 3, "dy");
  F32 dx = argF32(info, 4, "dx");
  needLength(info.Env(), y.length, x.length, "y");
  needLength(info.Env(), dy.length, x.length, "dy");
  needLength(info.Env(), dx.length, x.length, "dx");
  dispatchOp<kUnaryCount>(op, [&](auto c) { unaryBackwardLoop<decltype(c)::value>(x.data, y.data, dy.data, dx.data, x.length); });
  return info.Env().Undefined();
}

/** binary(op, aData, aOffset, aStrides, bData, bOffset, bStrides, shape, out) */
Napi::Value Binary(const Napi::CallbackInfo& info) {
  int op = argOp(info, 0, kBinaryCount, "binary op");
  auto shape = argShape(info, 7, "shape");
  StridedArg a = argStrided(info, 1, shape, "a");
  StridedArg b = argStrided(info, 4, shape, "b");
  F32 out = argF32(info, 8, "out");
  needLength(info.Env(), out.length, shapeSize(info.Env(), shape), "out");
  auto os = contiguousStrides(shape);
  Layout<3> l = makeLayout<3>(shape, {&a.strides, &b.strides, &os}, {a.offset, b.offset, 0});
  dispatchOp<kBinaryCount>(op, [&](auto c) { binaryLoop<decltype(c)::value>(l, a.data, b.data, out.data); });
  return info.Env().Undefined();
}

/** where(cond..., a..., b..., shape, out), each strided operand as (data, offset, strides). */
Napi::Value Where(const Napi::CallbackInfo& info) {
  auto shape = argShape(info, 9, "shape");
  StridedArg c = argStrided(info, 0, shape, "cond");
  StridedArg a = argStrided(info, 3, shape, "a");
  StridedArg b = argStrided(info, 6, shape, "b");
  F32 out = argF32(info, 10, "out");
  needLength(info.Env(), out.length, shapeSize(info.Env(), shape), "out");
  auto os = contiguousStrides(shape);
  Layout<4> l = makeLayout<4>(shape, {&c.strides, &a.strides, &b.strides, &os}, {c.offset, a.offset, b.offset, 0});
  forEachRun(l, [&](int64_t len, const std::array<int64_t, 4>& off, const std::array<int64_t, 4>& st) {
    const float* pc = c.data + off[0];
    const float* pa = a.data + off[1];
    const float* pb = b.data + off[2];
    float* po = out.data + off[3];
    for (int64_t j = 0; j < len; j++) po[j] = pc[j * st[0]] != 0.0f ? pa[j * st[1]] : pb[j * st[2]];
  });
  return info.Env().Undefined();
}

}  // namespace

void initElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("unaryOps", opNames(env, kUnaryOps, kUnaryCount));
  exports.Set("binaryOps", opNames(env, kBinaryOps, kBinaryCount));
  exports.Set("copy", Napi::Function::New(env, Copy, "copy"));
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("unaryBackward", Napi::Function::New(env, UnaryBackward, "unaryBackward"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("where", Napi::Function::New(env, Where, "where"));
}

}  // namespace aiayn
