// N-API functions of the reductions (kernels/reduce.h).
#include "kernels/reduce.h"
#include "napi/bind.h"

namespace aiayn {
namespace {

/** {x, outer, n, inner} of both reductions, with x's length checked. */
ReduceInput readInput(const Reader& r) {
  const F32 x = r.f32("x");
  const ReduceInput in{x.data, r.size("outer"), r.size("n"), r.size("inner")};
  r.needLength(x.length, r.product({in.outer, in.n, in.inner}), "x");
  return in;
}

/** {op, x, outer, n, inner, out} */
ReduceArgs readReduce(const Reader& r) {
  const int op = r.op("op", kReduceOpCount);
  const ReduceInput in = readInput(r);
  const F32 out = r.f32("out");
  r.needLength(out.length, r.product({in.outer, in.inner}), "out");
  return {op, in, out.data};
}

/** {x, outer, n, inner, out: Int32Array} */
ArgmaxArgs readArgmax(const Reader& r) {
  const ReduceInput in = readInput(r);
  const I32 out = r.i32("out");
  r.needLength(out.length, r.product({in.outer, in.inner}), "out");
  if (in.n > 2147483647) r.fail("the axis is too long for Int32 indices", true);
  return {in, out.data};
}

}  // namespace

void initReduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduceOps", opNames(env, kReduceOpNames, kReduceOpCount));
  exportKernel<readReduce, reduce>(env, exports, "reduce");
  exportKernel<readArgmax, argmax>(env, exports, "argmax");
}

}  // namespace aiayn
