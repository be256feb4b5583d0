// The scalar unary functions and their derivatives, in the TypeScript oracle's arithmetic (transcendentals in
// double, stored as float): the elementwise kernels' loops and the decoder step's FFN activation share them.
#pragma once

#include <cmath>

namespace aiayn {

/** Unary op codes, in the order of kUnaryOpNames (the wrapper maps names to codes with that list). */
enum UnaryOp { kNeg, kExp, kLog, kSqrt, kTanh, kRelu, kSigmoid, kGelu, kGeluTanh, kAbs, kUnaryOpCount };

/** Names of the unary ops in code order. */
constexpr const char* kUnaryOpNames[kUnaryOpCount] = {"neg", "exp", "log", "sqrt", "tanh", "relu", "sigmoid", "gelu",
                                                      "geluTanh", "abs"};

constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

/** f(x) for unary op OP (exp, sigmoid and, in the elementwise kernels, geluTanh run in the vectorised loops of simd/). */
template <int OP>
inline float unaryF(float xf) {
  static_assert(OP != kExp && OP != kSigmoid, "exp and sigmoid are vmath loops");
  const double x = xf;
  switch (OP) {
    case kNeg: return -xf;
    case kLog: return static_cast<float>(std::log(x));
    case kSqrt: return std::sqrt(xf);
    case kTanh: return static_cast<float>(std::tanh(x));
    case kRelu: return xf > 0 ? xf : 0.0f;
    case kGelu: return static_cast<float>(0.5 * x * std::erfc(-x * kSqrtHalf));
    case kGeluTanh: return static_cast<float>(0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x))));
    default: return std::fabs(xf);
  }
}

/** f'(x) for unary op OP given x and y = f(x), in double. */
template <int OP>
inline double unaryD(double x, double y) {
  switch (OP) {
    case kNeg: return -1.0;
    case kExp: return y;
    case kLog: return 1.0 / x;
    case kSqrt: return 0.5 / y;
    case kTanh: return 1.0 - y * y;
    case kRelu: return x > 0 ? 1.0 : 0.0;
    case kSigmoid: return y * (1.0 - y);
    case kGelu: return 0.5 * std::erfc(-x * kSqrtHalf) + x * kInvSqrt2Pi * std::exp(-0.5 * x * x);
    case kGeluTanh: {
      const double t = std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x));
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * kSqrt2OverPi * (1.0 + 3.0 * 0.044715 * x * x);
    }
    default: return x > 0 ? 1.0 : x < 0 ? -1.0 : x;  // Math.sign: keeps 0, -0 and NaN
  }
}

}  // namespace aiayn
