// Body of the vectorised loops (see vmath.h). Included once per instruction set by vmath_<isa>.cc, which
// defines VMATH_TABLE; everything here has internal linkage so the variants never mix at link time.
#include "vexp.h"
#include "vmath.h"

namespace aiayn {
namespace {

/** See VMath::exp. */
void expLoop(const float* x, float* out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) out[i] = static_cast<float>(vexp(x[i]));
}

/** See VMath::sigmoid. */
void sigmoidLoop(const float* x, float* out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) out[i] = static_cast<float>(1.0 / (1.0 + vexp(-static_cast<double>(x[i]))));
}

/** See VMath::expSumStore. */
double expSumStoreLoop(double* z, int64_t n, double mx) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; j++) {
    const double e = vexp(z[j] - mx);
    z[j] = e;
    s += e;
  }
  return s;
}

/** See VMath::expSum. */
double expSumLoop(const double* z, int64_t n, double mx) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; j++) s += vexp(z[j] - mx);
  return s;
}

/** See VMath::ceStats. */
void ceStatsLoop(const float* l, int64_t n, double mx, double* sum, double* all) {
  double s = 0.0;
  double a = 0.0;
#pragma omp simd reduction(+ : s, a)
  for (int64_t j = 0; j < n; j++) {
    s += vexp(l[j] - mx);
    a += l[j];
  }
  *sum = s;
  *all = a;
}

/** See VMath::ceGrad. */
void ceGradLoop(const float* l, int64_t n, double lse, double scale, double off, float* d) {
#pragma omp simd
  for (int64_t j = 0; j < n; j++) d[j] = static_cast<float>(scale * (vexp(l[j] - lse) - off));
}

/** See VMath::logSoftmaxGrad. */
void logSoftmaxGradLoop(const float* y, const float* dy, int64_t n, double dot, double scale, float* dx) {
#pragma omp simd
  for (int64_t j = 0; j < n; j++) dx[j] = static_cast<float>(scale * (dy[j] - vexp(y[j]) * dot));
}

/** See VMath::adam; mirrors the TypeScript adam exactly, including where values are rounded to float. */
void adamLoop(float* param, const float* grad, float* m, float* v, int64_t n, const AdamArgs& a) {
  const double lr = a.lr, b1 = a.beta1, b2 = a.beta2, eps = a.eps, wd = a.weightDecay, c1 = a.c1, c2 = a.c2;
  const bool l2 = a.l2, decay = a.decay;
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    const float p0 = param[i];
    const double g = l2 ? grad[i] + wd * p0 : static_cast<double>(grad[i]);  // selects, not branches: vectorises
    const float p = decay ? static_cast<float>(p0 - lr * wd * p0) : p0;
    const double mi = b1 * m[i] + (1.0 - b1) * g;
    const double vi = b2 * v[i] + (1.0 - b2) * g * g;
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    param[i] = static_cast<float>(p - lr * (mi / c1) / (__builtin_sqrt(vi / c2) + eps));
  }
}

}  // namespace

extern const VMath VMATH_TABLE;
const VMath VMATH_TABLE = {VMATH_NAME, expLoop, sigmoidLoop, expSumStoreLoop, expSumLoop, ceStatsLoop, ceGradLoop,
                           logSoftmaxGradLoop, adamLoop};

}  // namespace aiayn
