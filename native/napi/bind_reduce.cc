// Readers of the reductions' argument objects (kernels/reduce.h).
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

}  // namespace

/** {op, x, outer, n, inner, out} */
ReduceArgs readReduce(const Reader& r) {
  const int op = r.op("op", kReduceOpCount);
  const ReduceInput in = readInput(r);
  return {op, in, r.floats("out", r.product({in.outer, in.inner}))};
}

/** {x, outer, n, inner, out: Int32Array} */
ArgmaxArgs readArgmax(const Reader& r) {
  const ReduceInput in = readInput(r);
  if (in.n > 2147483647) r.fail("the axis is too long for Int32 indices", true);
  return {in, r.ints("out", r.product({in.outer, in.inner}))};
}

}  // namespace aiayn
