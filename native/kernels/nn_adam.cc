// The Adam / AdamW update with bias correction (the loop: simd/nn_adam.h).
#include <cmath>

#include "kernels/nn.h"
#include "kernels/parallel.h"
#include "simd/vmath.h"

namespace aiayn {

void adam(const AdamArgs& g) {
  const double wd = g.weightDecay;
  const AdamScalars args{g.lr, g.beta1, g.beta2, g.eps, wd, 1.0 - std::pow(g.beta1, g.step), 1.0 - std::pow(g.beta2, g.step),
                         wd != 0.0 && !g.decoupled, wd != 0.0 && g.decoupled};
  const VMath& vm = vmath();
  parallelIf(g.n >= kParallelGrain, [&] {
    int64_t b, e;
    teamRange(g.n, &b, &e);
    vm.adam(g.param + b, g.grad + b, g.m + b, g.v + b, e - b, args);
  });
}

}  // namespace aiayn
