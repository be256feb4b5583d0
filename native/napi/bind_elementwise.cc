// Readers of the elementwise kernels' argument objects (kernels/elementwise.h).
#include <utility>

#include "kernels/elementwise.h"
#include "napi/bind.h"

namespace aiayn {

/** {src: Strided, dst: Strided, shape} */
CopyArgs readCopy(const Reader& r) {
  std::vector<int64_t> shape = r.shape("shape");
  StridedRef src = r.strided("src", shape);
  StridedRef dst = r.strided("dst", shape);
  r.product(shape);  // throws when the element count overflows
  return {std::move(src), std::move(dst), std::move(shape)};
}

/** {op, x, out} */
UnaryArgs readUnary(const Reader& r) {
  const F32 x = r.f32("x");
  return {r.op("op", kUnaryOpCount), x.data, r.floats("out", x.length), x.length};
}

/** {op, x, y, dy, dx} */
UnaryBackwardArgs readUnaryBackward(const Reader& r) {
  const F32 x = r.f32("x");
  return {r.op("op", kUnaryOpCount), x.data, r.floats("y", x.length), r.floats("dy", x.length), r.floats("dx", x.length), x.length};
}

/** {op, a: Strided, b: Strided, shape, out} */
BinaryArgs readBinary(const Reader& r) {
  const int op = r.op("op", kBinaryOpCount);
  std::vector<int64_t> shape = r.shape("shape");
  StridedRef a = r.strided("a", shape);
  StridedRef b = r.strided("b", shape);
  float* out = r.floats("out", r.product(shape));
  return {op, std::move(a), std::move(b), std::move(shape), out};
}

/** {cond: Strided, a: Strided, b: Strided, shape, out} */
WhereArgs readWhere(const Reader& r) {
  std::vector<int64_t> shape = r.shape("shape");
  StridedRef cond = r.strided("cond", shape);
  StridedRef a = r.strided("a", shape);
  StridedRef b = r.strided("b", shape);
  float* out = r.floats("out", r.product(shape));
  return {std::move(cond), std::move(a), std::move(b), std::move(shape), out};
}

}  // namespace aiayn
