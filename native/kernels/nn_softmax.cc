// Row softmax / log-softmax of scale * x + mask (mask strided, broadcast by stride 0) and its backward, on the
// per-ISA row loops (float exps, double sums).
#include <algorithm>
#include <vector>

#include "kernels/nn.h"
#include "kernels/parallel.h"
#include "simd/vmath.h"

namespace aiayn {

void softmax(const SoftmaxArgs& g) {
  const std::vector<int64_t>& shape = g.shape;
  const StridedRef& mask = g.mask;
  const bool hasMask = mask.data != nullptr;
  int64_t total = 1;
  for (int64_t s : shape) total *= s;
  const size_t rank = shape.size();
  const int64_t cols = rank == 0 ? 1 : shape[rank - 1];
  if (cols == 0 || total == 0) return;
  const int64_t rows = total / cols;
  const int64_t colStride = hasMask && rank > 0 ? mask.strides[rank - 1] : 0;
  const VMath& vm = vmath();
  const int64_t outer = static_cast<int64_t>(rank) - 1;  // dims walked per row, to find each row's mask
  parallelIf(total >= kParallelGrain && rows > 1, [&] {
    int64_t r0, r1;
    teamRange(rows, &r0, &r1);
    std::vector<int64_t> idx(static_cast<size_t>(std::max<int64_t>(outer, 0)));
    int64_t q = mask.offset;  // mask offset of row r0, then advanced like an odometer
    for (int64_t rest = r0, d = outer - 1; d >= 0; d--) {
      idx[d] = rest % shape[d];
      q += idx[d] * mask.strides[d];
      rest /= shape[d];
    }
    for (int64_t r = r0; r < r1; r++) {
      vm.softmaxRow(g.x + r * cols, hasMask ? mask.data + q : nullptr, colStride, cols, static_cast<float>(g.scale), g.log,
                    g.out + r * cols);
      for (int64_t d = outer - 1; d >= 0; d--) {
        q += mask.strides[d];
        if (++idx[d] < shape[d]) break;
        q -= idx[d] * mask.strides[d];
        idx[d] = 0;
      }
    }
  });
}

void softmaxBackward(const SoftmaxBackwardArgs& g) {
  const int64_t cols = g.cols;
  const VMath& vm = vmath();
  parallelIf(g.rows * cols >= kParallelGrain && g.rows > 1, [&] {
#pragma omp for schedule(static) nowait
    for (int64_t r = 0; r < g.rows; r++) vm.softmaxGradRow(g.y + r * cols, g.dy + r * cols, cols, g.scale, g.log, g.dx + r * cols);
  });
}

}  // namespace aiayn
