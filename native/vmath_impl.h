// Body of the vectorised loops (see vmath.h). Included once per instruction set by vmath_<isa>.cc, which
// defines VMATH_TABLE; everything here has internal linkage so the variants never mix at link time.
#include "vexp.h"
#include "vmath.h"
#include "xoshiro.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

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

/**
 * Σ exp(z[j] - mx) (also stored into e unless it is null) as double totals of float sums over 256 elements:
 * loops of floats alone vectorise down to their last elements, which matters for rows of 24 or 32.
 */
double sumChunks(float* z, int64_t n, float mx, float* e) {
  double total = 0.0;
  for (int64_t j0 = 0; j0 < n; j0 += 256) {
    const int64_t j1 = n - j0 < 256 ? n : j0 + 256;
    float s = 0.0f;
    if (e == nullptr) {
#pragma omp simd reduction(+ : s)
      for (int64_t j = j0; j < j1; j++) s += vexpf(z[j] - mx);
    } else {
#pragma omp simd reduction(+ : s)
      for (int64_t j = j0; j < j1; j++) {
        e[j] = vexpf(z[j] - mx);
        s += e[j];
      }
    }
    total += s;
  }
  return total;
}

/** See VMath::softmaxRow. */
void softmaxRowLoop(const float* x, const float* mask, int64_t maskStride, int64_t n, float scale, bool log, float* out) {
  float mx = -__builtin_inff();
  if (mask == nullptr) {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; j++) {
      out[j] = scale * x[j];
      mx = out[j] > mx ? out[j] : mx;
    }
  } else if (maskStride == 1) {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; j++) {
      out[j] = scale * x[j] + mask[j];
      mx = out[j] > mx ? out[j] : mx;
    }
  } else {
    for (int64_t j = 0; j < n; j++) {
      out[j] = scale * x[j] + mask[j * maskStride];
      mx = out[j] > mx ? out[j] : mx;
    }
  }
  if (mx == -__builtin_inff()) mx = 0.0f;  // every entry masked: exp gives 0s, so the row sums to 0
  if (log) {
    const float lse = static_cast<float>(mx + __builtin_log(sumChunks(out, n, mx, nullptr)));
#pragma omp simd
    for (int64_t j = 0; j < n; j++) out[j] = out[j] - lse;
  } else {
    const float inv = static_cast<float>(1.0 / sumChunks(out, n, mx, out));
#pragma omp simd
    for (int64_t j = 0; j < n; j++) out[j] *= inv;
  }
}

/** See VMath::softmaxGradRow. */
void softmaxGradRowLoop(const float* y, const float* dy, int64_t n, double scale, bool log, float* dx) {
  double dot = 0.0;
  if (log) {
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < n; j++) dot += dy[j];
    const float s = static_cast<float>(scale);
    const float d = static_cast<float>(dot);
#pragma omp simd
    for (int64_t j = 0; j < n; j++) dx[j] = s * (dy[j] - vexpf(y[j]) * d);
  } else {
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < n; j++) dot += static_cast<double>(dy[j]) * y[j];
    const float s = static_cast<float>(scale);
    const float d = static_cast<float>(dot);
#pragma omp simd
    for (int64_t j = 0; j < n; j++) dx[j] = s * (y[j] * (dy[j] - d));
  }
}

/** See VMath::ceStats. */
void ceStatsLoop(const float* l, int64_t n, double mx, double* sum, double* all, float* e) {
  double s = 0.0;
  double a = 0.0;
  const float m = static_cast<float>(mx);
  if (e == nullptr) {
#pragma omp simd reduction(+ : s, a)
    for (int64_t j = 0; j < n; j++) {
      s += vexpf(l[j] - m);
      a += l[j];
    }
  } else {
#pragma omp simd reduction(+ : s, a)
    for (int64_t j = 0; j < n; j++) {
      e[j] = vexpf(l[j] - m);
      s += e[j];
      a += l[j];
    }
  }
  *sum = s;
  *all = a;
}

/** See VMath::rowMax. */
float rowMaxLoop(const float* l, int64_t n) {
  float mx = -__builtin_inff();
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < n; j++) mx = l[j] > mx ? l[j] : mx;
  return mx;
}

/** See VMath::biasRowMax. */
float biasRowMaxLoop(const float* l, const float* bias, int64_t n, float* z) {
  float mx = -__builtin_inff();
  if (bias == nullptr) {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; j++) {
      z[j] = l[j];
      mx = z[j] > mx ? z[j] : mx;
    }
  } else {
#pragma omp simd reduction(max : mx)
    for (int64_t j = 0; j < n; j++) {
      z[j] = l[j] + bias[j];
      mx = z[j] > mx ? z[j] : mx;
    }
  }
  return mx;
}

/** See VMath::accumulateRow. */
void accumulateRowLoop(float* acc, const float* x, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; j++) acc[j] += x[j];
}

/** See VMath::scaleShift. */
void scaleShiftLoop(float* d, int64_t n, double a, double b) {
#pragma omp simd
  for (int64_t j = 0; j < n; j++) d[j] = static_cast<float>(a * d[j] - b);
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


// --- smallGemmNT: register-blocked dot products in the widest vectors of the target ---

#if defined(__AVX512F__)
constexpr int kLanes = 16;
constexpr int kBlockN = 4;  // 4 x 4 accumulators + 5 operands fit the 32 zmm registers
#elif defined(__AVX2__)
constexpr int kLanes = 8;
constexpr int kBlockN = 2;  // 16 ymm registers
#else
constexpr int kLanes = 4;
constexpr int kBlockN = 2;
#endif
constexpr int kBlockM = 4;

typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));

inline Vec loadVec(const float* p) {
  Vec v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

/** acc + x * y, fused where the target has FMA. */
inline Vec fmaVec(Vec x, Vec y, Vec acc) {
#if defined(__AVX512F__)
  return (Vec)_mm512_fmadd_ps((__m512)x, (__m512)y, (__m512)acc);
#elif defined(__FMA__)
  return (Vec)_mm256_fmadd_ps((__m256)x, (__m256)y, (__m256)acc);
#else
  return acc + x * y;
#endif
}

/** The sum of a vector's lanes (a shuffle tree where the target has one). */
inline float sumLanes(Vec v) {
#if defined(__AVX512F__)
  return _mm512_reduce_add_ps((__m512)v);
#elif defined(__AVX2__)
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128((__m256)v), _mm256_extractf128_ps((__m256)v, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
#else
  float s = 0.0f;
  for (int l = 0; l < kLanes; l++) s += v[l];
  return s;
#endif
}

#if defined(__AVX512F__)
/** Sums of x and y (16 lanes each) as [x0+x2, y0+y2, x1+x3, y1+y3] within every 128-bit quarter. */
inline __m512 pairSums(Vec x, Vec y) {
  return _mm512_add_ps(_mm512_unpacklo_ps((__m512)x, (__m512)y), _mm512_unpackhi_ps((__m512)x, (__m512)y));
}

/** Quarter q of the result holds partial sums of x, y, z, w (in that order) over quarter q of their lanes. */
inline __m512 quadSums(Vec x, Vec y, Vec z, Vec w) {
  const __m512 xy = pairSums(x, y);
  const __m512 zw = pairSums(z, w);
  return _mm512_add_ps(_mm512_shuffle_ps(xy, zw, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_ps(xy, zw, _MM_SHUFFLE(3, 2, 3, 2)));
}

/** Adds quarters pairwise across two quadSums results: [a.q0+a.q1, a.q2+a.q3, b.q0+b.q1, b.q2+b.q3]. */
inline __m512 halfSums(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}

/**
 * The 4 x 4 outputs of dotBlock from its accumulators: one transpose-and-add tree leaves lane 4i + j holding the
 * sum of acc[i][j] (45 instructions where 16 separate lane sums take about 130), then scaling, beta and bias as
 * vectors and one 4-float store per row.
 */
inline void storeBlock4x4(const SmallGemmArgs& g, const Vec (&acc)[4][4], float* out, const float* bias) {
  const __m512 r01 = halfSums(quadSums(acc[0][0], acc[0][1], acc[0][2], acc[0][3]),
                              quadSums(acc[1][0], acc[1][1], acc[1][2], acc[1][3]));
  const __m512 r23 = halfSums(quadSums(acc[2][0], acc[2][1], acc[2][2], acc[2][3]),
                              quadSums(acc[3][0], acc[3][1], acc[3][2], acc[3][3]));
  __m512 r = _mm512_mul_ps(halfSums(r01, r23), _mm512_set1_ps(g.alpha));
  if (g.beta != 0.0f) {
    __m512 old = _mm512_castps128_ps512(_mm_loadu_ps(out));
    old = _mm512_insertf32x4(old, _mm_loadu_ps(out + g.ldc), 1);
    old = _mm512_insertf32x4(old, _mm_loadu_ps(out + 2 * g.ldc), 2);
    old = _mm512_insertf32x4(old, _mm_loadu_ps(out + 3 * g.ldc), 3);
    r = _mm512_fmadd_ps(old, _mm512_set1_ps(g.beta), r);
  }
  if (bias != nullptr) r = _mm512_add_ps(r, _mm512_broadcast_f32x4(_mm_loadu_ps(bias)));
  _mm_storeu_ps(out, _mm512_castps512_ps128(r));
  _mm_storeu_ps(out + g.ldc, _mm512_extractf32x4_ps(r, 1));
  _mm_storeu_ps(out + 2 * g.ldc, _mm512_extractf32x4_ps(r, 2));
  _mm_storeu_ps(out + 3 * g.ldc, _mm512_extractf32x4_ps(r, 3));
}
#endif

/** An MR x NR block of outputs at rows a, w (each advanced by its leading dimension). */
template <int MR, int NR>
void dotBlock(const SmallGemmArgs& g, const float* a, const float* w, float* out, const float* bias) {
  Vec acc[MR][NR] = {};
  int64_t p = 0;
  for (; p + kLanes <= g.k; p += kLanes) {
    Vec wv[NR];
    for (int j = 0; j < NR; j++) wv[j] = loadVec(w + j * g.ldw + p);
    for (int i = 0; i < MR; i++) {
      const Vec av = loadVec(a + i * g.lda + p);
      for (int j = 0; j < NR; j++) acc[i][j] = fmaVec(av, wv[j], acc[i][j]);
    }
  }
#if defined(__AVX512F__)
  if constexpr (MR == 4 && NR == 4) {
    if (p == g.k) return storeBlock4x4(g, acc, out, bias);
  }
#endif
  for (int i = 0; i < MR; i++) {
    for (int j = 0; j < NR; j++) {
      float s = sumLanes(acc[i][j]);
      for (int64_t q = p; q < g.k; q++) s += a[i * g.lda + q] * w[j * g.ldw + q];
      float& o = out[i * g.ldc + j];
      o = g.alpha * s + (g.beta == 0.0f ? 0.0f : g.beta * o) + (bias == nullptr ? 0.0f : bias[j]);
    }
  }
}

/** dotBlock with the block size chosen at run time (tails of m and n). */
template <int NR>
void dotBlockRows(const SmallGemmArgs& g, int64_t i, int64_t j) {
  const float* a = g.a + i * g.lda;
  const float* w = g.w + j * g.ldw;
  float* out = g.out + i * g.ldc + j;
  const float* bias = g.bias == nullptr ? nullptr : g.bias + j;
  switch (g.m - i < kBlockM ? g.m - i : kBlockM) {
    case 1: dotBlock<1, NR>(g, a, w, out, bias); break;
    case 2: dotBlock<2, NR>(g, a, w, out, bias); break;
    case 3: dotBlock<3, NR>(g, a, w, out, bias); break;
    default: dotBlock<kBlockM, NR>(g, a, w, out, bias); break;
  }
}

/** A vector with every lane x. */
inline Vec splat(float x) {
#if defined(__AVX512F__)
  return (Vec)_mm512_set1_ps(x);  // one vbroadcastss (zero + x compiled to an add and a broadcast)
#elif defined(__AVX2__)
  return (Vec)_mm256_set1_ps(x);
#else
  const Vec zero = {};
  return zero + x;
#endif
}

/** MR rows x NV vectors of c = a b (see VMath::packedGemm) from row i, column j: one b row, broadcast a's, FMAs. */
template <int MR, int NV>
void packedBlock(const PackedGemmArgs& g, int64_t i, int64_t j) {
  Vec acc[MR][NV] = {};
  const float* a = g.a + i * g.ai;
  const float* b = g.b + j;
  for (int64_t p = 0; p < g.k; p++) {
    Vec bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = loadVec(b + p * g.ldb + v * kLanes);
    for (int r = 0; r < MR; r++) {
      const Vec av = splat(a[r * g.ai + p * g.ap]);
      for (int v = 0; v < NV; v++) acc[r][v] = fmaVec(av, bv[v], acc[r][v]);
    }
  }
  float* c = g.c + i * g.ldc + j;
  for (int r = 0; r < MR; r++) {
    for (int v = 0; v < NV; v++) __builtin_memcpy(c + r * g.ldc + v * kLanes, &acc[r][v], sizeof(Vec));
  }
}

/** packedBlock over every column block of MR rows from row i. */
template <int MR>
void packedRows(const PackedGemmArgs& g, int64_t i) {
  int64_t j = 0;
  for (; j + 2 * kLanes <= g.n; j += 2 * kLanes) packedBlock<MR, 2>(g, i, j);
  for (; j < g.n; j += kLanes) packedBlock<MR, 1>(g, i, j);
}

/** See VMath::packedGemm. */
void packedGemmLoop(const PackedGemmArgs& g) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 8 <= g.m; i += 8) packedRows<8>(g, i);  // 16 of the 32 zmm registers accumulate
#endif
  for (; i + 4 <= g.m; i += 4) packedRows<4>(g, i);
  switch (g.m - i) {
    case 3: packedRows<3>(g, i); break;
    case 2: packedRows<2>(g, i); break;
    case 1: packedRows<1>(g, i); break;
    default: break;
  }
}

/** See VMath::transpose. */
void transposeLoop(const float* b, int64_t ldb, int64_t n, int64_t k, float* out, int64_t ldo) {
  constexpr int64_t kTile = 16;  // 16 x 16 tiles: reads and writes both stay within 16 cache lines
  for (int64_t p0 = 0; p0 < k; p0 += kTile) {
    const int64_t p1 = p0 + kTile < k ? p0 + kTile : k;
    for (int64_t j0 = 0; j0 < n; j0 += kTile) {
      const int64_t j1 = j0 + kTile < n ? j0 + kTile : n;
      for (int64_t p = p0; p < p1; p++) {
        float* row = out + p * ldo;
        for (int64_t j = j0; j < j1; j++) row[j] = b[j * ldb + p];
      }
    }
  }
}

#if defined(__AVX512F__)
/** Lane i of the result: the sum of acc[i]'s lanes, for 16 accumulators (four storeBlock4x4 trees in one). */
inline __m512 laneSums16(const Vec (&acc)[16]) {
  const __m512 r01 = halfSums(quadSums(acc[0], acc[1], acc[2], acc[3]), quadSums(acc[4], acc[5], acc[6], acc[7]));
  const __m512 r23 = halfSums(quadSums(acc[8], acc[9], acc[10], acc[11]), quadSums(acc[12], acc[13], acc[14], acc[15]));
  return halfSums(r01, r23);
}

/**
 * Outputs j .. j + 15 of a single row (m = 1; k and ldw multiples of 16): W rows in two passes of 8, eight FMA
 * chains streaming eight rows at once, then one transpose-and-add tree for all 16 dot products and one 16-float
 * store. Decoding one token is this product over every weight of the model, read from L3, so the loads of W are
 * 64-byte aligned: a row starting `lead` floats into a cache line is read from that line's start, the lanes
 * outside the row masked off in the first and last chunk (x is read at the same shift). Large Float32Arrays start
 * 16 bytes into a line, and split loads cost half the bandwidth: the small model's 8000 x 256 generator took 101 us
 * misaligned, 66 us aligned (standalone, 2 threads, from L3; the four-row block with a lane sum per output: 76 us).
 */
void dotRow16(const SmallGemmArgs& g, int64_t j) {
  const float* w0 = g.w + j * g.ldw;
  const int lead = static_cast<int>((reinterpret_cast<uintptr_t>(w0) % 64) / sizeof(float));
  const __mmask16 head = static_cast<__mmask16>(0xFFFFu << lead);  // lanes of chunk 0 inside the row
  const __mmask16 tail = static_cast<__mmask16>((1u << lead) - 1);  // lanes of chunk k / 16 inside the row
  const float* x = g.a - lead;
  Vec acc[16];
  for (int half = 0; half < 16; half += 8) {
    const float* w = w0 + half * g.ldw - lead;  // 64-byte aligned
    __m512 sum[8];
    __m512 xv = _mm512_maskz_loadu_ps(head, x);
    for (int r = 0; r < 8; r++) sum[r] = _mm512_mul_ps(xv, _mm512_maskz_load_ps(head, w + r * g.ldw));
    for (int64_t p = kLanes; p < g.k; p += kLanes) {
      xv = _mm512_loadu_ps(x + p);
      for (int r = 0; r < 8; r++) sum[r] = _mm512_fmadd_ps(xv, _mm512_load_ps(w + r * g.ldw + p), sum[r]);
    }
    if (lead > 0) {
      xv = _mm512_maskz_loadu_ps(tail, x + g.k);
      for (int r = 0; r < 8; r++) sum[r] = _mm512_fmadd_ps(xv, _mm512_maskz_load_ps(tail, w + r * g.ldw + g.k), sum[r]);
    }
    for (int r = 0; r < 8; r++) acc[half + r] = (Vec)sum[r];
  }
  __m512 r = _mm512_mul_ps(laneSums16(acc), _mm512_set1_ps(g.alpha));
  float* out = g.out + j;
  if (g.beta != 0.0f) r = _mm512_fmadd_ps(_mm512_loadu_ps(out), _mm512_set1_ps(g.beta), r);
  if (g.bias != nullptr) r = _mm512_add_ps(r, _mm512_loadu_ps(g.bias + j));
  _mm512_storeu_ps(out, r);
}
#endif

/** See VMath::oneRowKernel. */
#if defined(__AVX512F__)
constexpr bool kOneRowKernel = true;
#else
constexpr bool kOneRowKernel = false;
#endif

/** See VMath::smallGemmNT. Blocks of W rows outer, so each block stays in L1 while every row of A passes. */
void smallGemmNTLoop(const SmallGemmArgs& g, int64_t j0, int64_t j1) {
  int64_t j = j0;
#if defined(__AVX512F__)
  if (g.m == 1 && g.k % kLanes == 0 && g.ldw % kLanes == 0) {  // see VMath::oneRowKernel
    for (; j + 16 <= j1; j += 16) dotRow16(g, j);
  }
#endif
  for (; j + kBlockN <= j1; j += kBlockN) {
    for (int64_t i = 0; i < g.m; i += kBlockM) dotBlockRows<kBlockN>(g, i, j);
  }
  for (; j < j1; j++) {
    for (int64_t i = 0; i < g.m; i += kBlockM) dotBlockRows<1>(g, i, j);
  }
}


/** See VMath::layerNormRows: statistics in double, one row at a time. */
void layerNormRowsLoop(const LayerNormArgs& a, int64_t r0, int64_t r1) {
  const int64_t cols = a.cols;
  const float* gamma = a.gamma;
  const float* beta = a.beta;
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = a.x + r * cols;
    float* o = a.out + r * cols;
    double mu = 0.0;
#pragma omp simd reduction(+ : mu)
    for (int64_t j = 0; j < cols; j++) mu += xr[j];
    mu /= static_cast<double>(cols);
    double v = 0.0;
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < cols; j++) {
      const double d = xr[j] - mu;
      v += d * d;
    }
    const double rs = 1.0 / __builtin_sqrt(v / static_cast<double>(cols) + a.eps);
    a.mean[r] = static_cast<float>(mu);
    a.rstd[r] = static_cast<float>(rs);
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) o[j] = static_cast<float>((xr[j] - mu) * rs * gamma[j] + beta[j]);
  }
}

/** See VMath::layerNormBackwardRows. */
void layerNormBackwardRowsLoop(const LayerNormArgs& a, int64_t r0, int64_t r1, double* pg, double* pb) {
  const int64_t cols = a.cols;
  const float* gamma = a.gamma;
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = a.x + r * cols;
    const float* g = a.dy + r * cols;
    float* o = a.dx + r * cols;
    const double mu = a.mean[r];
    const double rs = a.rstd[r];
    double sumG = 0.0;
    double sumGX = 0.0;
#pragma omp simd reduction(+ : sumG, sumGX)
    for (int64_t j = 0; j < cols; j++) {
      const double xhat = (xr[j] - mu) * rs;
      const double gj = static_cast<double>(g[j]) * gamma[j];
      sumG += gj;
      sumGX += gj * xhat;
    }
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) {  // a loop of its own: beside the reductions it did not vectorise
      pg[j] += g[j] * ((xr[j] - mu) * rs);
      pb[j] += g[j];
    }
    sumG /= static_cast<double>(cols);
    sumGX /= static_cast<double>(cols);
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) {
      const double xhat = (xr[j] - mu) * rs;
      o[j] = static_cast<float>(rs * (static_cast<double>(g[j]) * gamma[j] - sumG - xhat * sumGX));
    }
  }
}

/** See VMath::sumColumns. */
void sumColumnsLoop(const float* x, int64_t n, int64_t ld, int64_t len, float* out) {
  double acc[64] = {};
  if (len == 64) {  // a constant trip count keeps the accumulators in registers
    for (int64_t j = 0; j < n; j++) {
#pragma omp simd
      for (int64_t i = 0; i < 64; i++) acc[i] += x[j * ld + i];
    }
  } else {
    for (int64_t j = 0; j < n; j++) {
#pragma omp simd
      for (int64_t i = 0; i < len; i++) acc[i] += x[j * ld + i];
    }
  }
  for (int64_t i = 0; i < len; i++) out[i] = static_cast<float>(acc[i]);
}

typedef uint32_t UVec __attribute__((vector_size(kLanes * sizeof(uint32_t))));

/** See VMath::drawKeepWords: xoshiro128** on kLanes states, one per vector lane. */
void drawKeepWordsLoop(uint32_t* states, int64_t words, uint32_t drop, int32_t* out, int64_t laneStride) {
  UVec s0, s1, s2, s3;
  __builtin_memcpy(&s0, states, sizeof(UVec));
  __builtin_memcpy(&s1, states + kLanes, sizeof(UVec));
  __builtin_memcpy(&s2, states + 2 * kLanes, sizeof(UVec));
  __builtin_memcpy(&s3, states + 3 * kLanes, sizeof(UVec));
  const UVec limit = UVec{} + drop;
  for (int64_t w = 0; w < words; w++) {
    UVec bits = {};
    for (int j = 0; j < 32; j++) {
      const UVec result = xoshiro128Step(s0, s1, s2, s3);
      bits |= reinterpret_cast<UVec>(result >= limit) & (1u << j);
    }
    for (int l = 0; l < kLanes; l++) out[l * laneStride + w] = static_cast<int32_t>(bits[l]);
  }
  __builtin_memcpy(states, &s0, sizeof(UVec));
  __builtin_memcpy(states + kLanes, &s1, sizeof(UVec));
  __builtin_memcpy(states + 2 * kLanes, &s2, sizeof(UVec));
  __builtin_memcpy(states + 3 * kLanes, &s3, sizeof(UVec));
}

/** See VMath::dropoutGradWords. */
void dropoutGradWordsLoop(const float* dy, const int32_t* bits, float keep, int64_t w0, int64_t w1, float* dx) {
  for (int64_t w = w0; w < w1; w++) {
    const uint32_t b = static_cast<uint32_t>(bits[w]);
    const float* d = dy + w * 32;
    float* o = dx + w * 32;
#pragma omp simd
    for (int j = 0; j < 32; j++) o[j] = d[j] * ((b >> j) & 1u ? keep : 0.0f);
  }
}

/** See VMath::attendRow. */
void attendRowLoop(const float* q, const float* k, const float* v, int64_t ld, int64_t n, int64_t dk, float scale,
                   const float* mask, float* scores, float* out) {
  for (int64_t j = 0; j < n; j++) {
    const float* kj = k + j * ld;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t p = 0; p < dk; p++) s += q[p] * kj[p];
    scores[j] = s;
  }
  softmaxRowLoop(scores, mask, 1, n, scale, false, scores);
  for (int64_t p = 0; p < dk; p++) out[p] = 0.0f;
  for (int64_t j = 0; j < n; j++) {
    const float w = scores[j];
    const float* vj = v + j * ld;
#pragma omp simd
    for (int64_t p = 0; p < dk; p++) out[p] += w * vj[p];
  }
}

/** n rounded up to whole vectors. */
inline int64_t vecCeil(int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

/**
 * dst[r * d + p] = src[r * ld + p]: a pair's rows copied together before they are read again and again. Rows of
 * the larger models' projections lie a multiple of 2 KB apart, so in place they share a handful of L1 cache sets
 * and evict one another (base's attention backward ran 1.8x slower so).
 */
inline void gatherRows(const float* src, int64_t ld, int64_t rows, int64_t d, float* dst) {
  for (int64_t r = 0; r < rows; r++) __builtin_memcpy(dst + r * d, src + r * ld, sizeof(float) * d);
}

/** mt[p * np + j] = m[j * d + p] for n dense rows of d values, np = vecCeil(n), the padding zeroed. */
inline void transposeRows(const float* m, int64_t n, int64_t d, float* mt) {
  const int64_t np = vecCeil(n);
  for (int64_t p = 0; p < d; p++) {
    float* r = mt + p * np;
    for (int64_t j = 0; j < n; j++) r[j] = m[j * d + p];
    for (int64_t j = n; j < np; j++) r[j] = 0.0f;
  }
}

/**
 * out[p] = Σ_j w[j] m[j * ld + p] for p < d: a weighted sum of n rows, each chunk of out in a register (also a row
 * times a matrix stored transposed: w the row, m from transposeRows).
 */
inline void weightedRows(const float* w, const float* m, int64_t ld, int64_t n, int64_t d, float* out) {
  int64_t p = 0;
  for (; p + kLanes <= d; p += kLanes) {
    Vec acc[4] = {};  // four chains of FMAs instead of one
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
      for (int u = 0; u < 4; u++) acc[u] = fmaVec(splat(w[j + u]), loadVec(m + (j + u) * ld + p), acc[u]);
    }
    for (; j < n; j++) acc[0] = fmaVec(splat(w[j]), loadVec(m + j * ld + p), acc[0]);
    const Vec sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    __builtin_memcpy(out + p, &sum, sizeof(Vec));
  }
  for (; p < d; p++) {
    float acc = 0.0f;
    for (int64_t j = 0; j < n; j++) acc += w[j] * m[j * ld + p];
    out[p] = acc;
  }
}

/** See VMath::attentionScoresPair: K transposed once, then each query row is a row times a matrix. */
void attentionScoresPairLoop(const AttentionPair& a) {
  float* kt = a.scratch;
  float* row = kt + a.dK * vecCeil(a.tk);
  float* k = row + vecCeil(a.tk);  // tk x dK gathered
  gatherRows(a.k, a.ldk, a.tk, a.dK, k);
  transposeRows(k, a.tk, a.dK, kt);
  for (int64_t i = 0; i < a.tq; i++) {
    weightedRows(a.q + i * a.ldq, kt, vecCeil(a.tk), a.dK, vecCeil(a.tk), row);  // q_i K^T
    softmaxRowLoop(row, a.mask == nullptr ? nullptr : a.mask + i * a.maskRow, a.maskCol, a.tk, a.scale, false, a.probs + i * a.tk);
  }
}

/**
 * See VMath::attentionBackwardPair. V transposed once; per query row i: dP_i = dOut_i V^T through dropout, dS_i
 * (softmax backward), dQ_i = dS_i K; then per key j, dK_j = Σ_i dS_ij Q_i and dV_j = Σ_i dropout(P)_ij dOut_i from
 * the transposed dS and weights, each output chunk summed in registers and stored once.
 */
void attentionBackwardPairLoop(const AttentionPair& a) {
  const int64_t np = vecCeil(a.tk);
  float* vt = a.scratch;               // dV x np
  float* ds = vt + a.dV * np;          // np: dP of row i, then dS
  float* dsT = ds + np;                // tk x tq
  float* pdT = dsT + a.tk * a.tq;      // tk x tq: the dropped weights, transposed
  float* q = pdT + a.tk * a.tq;        // tq x dK, the pair's rows gathered (each is read tk times)
  float* k = q + a.tq * a.dK;          // tk x dK
  float* go = k + a.tk * a.dK;         // tq x dV
  float* v = go + a.tq * a.dV;         // tk x dV
  gatherRows(a.q, a.ldq, a.tq, a.dK, q);
  gatherRows(a.k, a.ldk, a.tk, a.dK, k);
  gatherRows(a.dOut, a.ldo, a.tq, a.dV, go);
  gatherRows(a.v, a.ldv, a.tk, a.dV, v);
  transposeRows(v, a.tk, a.dV, vt);
  for (int64_t i = 0; i < a.tq; i++) {
    const float* pi = a.probs + i * a.tk;
    weightedRows(go + i * a.dV, vt, np, a.dV, np, ds);  // dOut_i V^T
    for (int64_t j = 0; j < a.tk; j++) {
      const int64_t e = a.bitBase + i * a.tk + j;
      const float kept = a.keepBits == nullptr ? 1.0f : ((static_cast<uint32_t>(a.keepBits[e >> 5]) >> (e & 31)) & 1u ? a.keep : 0.0f);
      ds[j] *= kept;  // through dropout
      pdT[j * a.tq + i] = pi[j] * kept;
    }
    double dot = 0.0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < a.tk; j++) dot += static_cast<double>(pi[j]) * ds[j];
    const float d = static_cast<float>(dot);
    for (int64_t j = 0; j < a.tk; j++) {
      ds[j] = a.scale * pi[j] * (ds[j] - d);  // dS: softmax backward, the scores' scale
      dsT[j * a.tq + i] = ds[j];
    }
    weightedRows(ds, k, a.dK, a.tk, a.dK, a.dq + i * a.lddq);  // dQ_i = dS_i K
  }
  for (int64_t j = 0; j < a.tk; j++) {
    weightedRows(dsT + j * a.tq, q, a.dK, a.tq, a.dK, a.dk + j * a.lddk);   // dK_j = Σ_i dS_ij Q_i
    weightedRows(pdT + j * a.tq, go, a.dV, a.tq, a.dV, a.dv + j * a.lddv);  // dV_j = Σ_i dropout(P)_ij dOut_i
  }
}

}  // namespace

extern const VMath VMATH_TABLE;
const VMath VMATH_TABLE = {VMATH_NAME, kLanes, kOneRowKernel, kLanes, expLoop, sigmoidLoop, softmaxRowLoop, softmaxGradRowLoop, ceStatsLoop, rowMaxLoop, biasRowMaxLoop, accumulateRowLoop, scaleShiftLoop,
                           adamLoop, smallGemmNTLoop, packedGemmLoop, transposeLoop, layerNormRowsLoop,
                           layerNormBackwardRowsLoop, sumColumnsLoop, drawKeepWordsLoop, dropoutGradWordsLoop, attendRowLoop,
                           attentionScoresPairLoop, attentionBackwardPairLoop};

}  // namespace aiayn
