// N-API functions of the elementwise kernels (kernels/elementwise.h): one reader per argument object.
#include <utility>

#include "kernels/elementwise.h"
#include "napi/bind.h"

namespace aiayn {
namespace {

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
  const int op = r.op("op", kUnaryOpCount);
  const F32 x = r.f32("x");
  const F32 out = r.f32("out");
  r.needLength(out.length, x.length, "out");
  return {op, x.data, out.data, x.length};
}

/** {op, x, y, dy, dx} */
UnaryBackwardArgs readUnaryBackward(const Reader& r) {
  const int op = r.op("op", kUnaryOpCount);
  const F32 x = r.f32("x");
  const F32 y = r.f32("y");
  const F32 dy = r.f32("dy");
  const F32 dx = r.f32("dx");
  r.needLength(y.length, x.length, "y");
  r.needLength(dy.length, x.length, "dy");
  r.needLength(dx.length, x.length, "dx");
  return {op, x.data, y.data, dy.data, dx.data, x.length};
}

/** {op, a: Strided, b: Strided, shape, out} */
BinaryArgs readBinary(const Reader& r) {
  const int op = r.op("op", kBinaryOpCount);
  std::vector<int64_t> shape = r.shape("shape");
  StridedRef a = r.strided("a", shape);
  StridedRef b = r.strided("b", shape);
  const F32 out = r.f32("out");
  r.needLength(out.length, r.product(shape), "out");
  return {op, std::move(a), std::move(b), std::move(shape), out.data};
}

/** {cond: Strided, a: Strided, b: Strided, shape, out} */
WhereArgs readWhere(const Reader& r) {
  std::vector<int64_t> shape = r.shape("shape");
  StridedRef cond = r.strided("cond", shape);
  StridedRef a = r.strided("a", shape);
  StridedRef b = r.strided("b", shape);
  const F32 out = r.f32("out");
  r.needLength(out.length, r.product(shape), "out");
  return {std::move(cond), std::move(a), std::move(b), std::move(shape), out.data};
}

}  // namespace

void initElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("unaryOps", opNames(env, kUnaryOpNames, kUnaryOpCount));
  exports.Set("binaryOps", opNames(env, kBinaryOpNames, kBinaryOpCount));
  exportKernel<readCopy, copyStrided>(env, exports, "copy");
  exportKernel<readUnary, unary>(env, exports, "unary");
  exportKernel<readUnaryBackward, unaryBackward>(env, exports, "unaryBackward");
  exportKernel<readBinary, binary>(env, exports, "binary");
  exportKernel<readWhere, where>(env, exports, "where");
}

}  // namespace aiayn
