// Elementwise kernels (src/backend/ts/elementwise.ts): strided copy, unary functions and their derivatives,
// broadcasting binary functions and `where`. Plain C++: the operands arrive checked (napi/bind_elementwise.cc).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/activations.h"
#include "kernels/strided.h"

namespace aiayn {

/** Binary op codes, in the order of kBinaryOpNames. */
enum BinaryOp { kAdd, kSub, kMul, kDiv, kPow, kMaximum, kMinimum, kEq, kNe, kLt, kLe, kGt, kGe, kBinaryOpCount };

/** Names of the binary ops in code order (the wrapper maps names to codes with this list). */
constexpr const char* kBinaryOpNames[kBinaryOpCount] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                                        "eq", "ne", "lt", "le", "gt", "ge"};

/** dst = src over `shape`, both strided. */
struct CopyArgs {
  StridedRef src, dst;
  std::vector<int64_t> shape;
};
/** Runs a strided copy (transposes in cache-sized tiles). */
void copyStrided(const CopyArgs& g);

/** out[i] = f(x[i]) for i < n, f the unary op `op`. */
struct UnaryArgs {
  int op;
  const float* x;
  float* out;
  int64_t n;
};
/** Runs a unary op. */
void unary(const UnaryArgs& g);

/** dx[i] = dy[i] * f'(x[i]) for i < n, given y = f(x). */
struct UnaryBackwardArgs {
  int op;
  const float *x, *y, *dy;
  float* dx;
  int64_t n;
};
/** Runs a unary op's backward. */
void unaryBackward(const UnaryBackwardArgs& g);

/** out (dense over `shape`) = a op b, a and b strided. */
struct BinaryArgs {
  int op;
  StridedRef a, b;
  std::vector<int64_t> shape;
  float* out;
};
/** Runs a broadcasting binary op. */
void binary(const BinaryArgs& g);

/** out (dense over `shape`) = cond != 0 ? a : b, all three strided. */
struct WhereArgs {
  StridedRef cond, a, b;
  std::vector<int64_t> shape;
  float* out;
};
/** Runs `where`. */
void where(const WhereArgs& g);

}  // namespace aiayn
