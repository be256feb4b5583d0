// Body of the vectorised loops (see vmath.h). Included once per instruction set by vmath_<isa>.cc, which
// defines VMATH_TABLE; everything here has internal linkage so the variants never mix at link time.
#include <vector>

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

/** Elements summed in float lanes before the partial sum joins a double total (softmax and loss rows). */
constexpr int64_t kFloatChunk = 256;

/**
 * Σ exp(z[j] - mx) (also stored into e unless it is null) as double totals of float sums over kFloatChunk elements:
 * loops of floats alone vectorise down to their last elements, which matters for rows of 24 or 32.
 */
double sumChunks(float* z, int64_t n, float mx, float* e) {
  double total = 0.0;
  for (int64_t j0 = 0; j0 < n; j0 += kFloatChunk) {
    const int64_t j1 = n - j0 < kFloatChunk ? n : j0 + kFloatChunk;
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
  for (int64_t j0 = 0; j0 < n; j0 += kFloatChunk) {  // float lanes within a chunk, double across chunks
    const int64_t j1 = n - j0 < kFloatChunk ? n : j0 + kFloatChunk;
    float cs = 0.0f;
    float ca = 0.0f;
    if (e == nullptr) {
#pragma omp simd reduction(+ : cs, ca)
      for (int64_t j = j0; j < j1; j++) {
        cs += vexpf(l[j] - m);
        ca += l[j];
      }
    } else {
#pragma omp simd reduction(+ : cs, ca)
      for (int64_t j = j0; j < j1; j++) {
        e[j] = vexpf(l[j] - m);
        cs += e[j];
        ca += l[j];
      }
    }
    s += cs;
    a += ca;
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

/** See VMath::scaleShift. */
void scaleShiftLoop(float* d, int64_t n, float a, float b, float* acc) {
  if (acc == nullptr) {
#pragma omp simd
    for (int64_t j = 0; j < n; j++) d[j] = a * d[j] - b;
    return;
  }
#pragma omp simd
  for (int64_t j = 0; j < n; j++) {
    d[j] = a * d[j] - b;
    acc[j] += d[j];
  }
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
  for (; j + kLanes <= g.n; j += kLanes) packedBlock<MR, 1>(g, i, j);
}

/** Columns [j0, n) of c one at a time: what is left past the last whole vector. */
void packedTail(const PackedGemmArgs& g, int64_t j0) {
  for (int64_t i = 0; i < g.m; i++) {
    for (int64_t j = j0; j < g.n; j++) {
      float acc = 0.0f;
      for (int64_t p = 0; p < g.k; p++) acc += g.a[i * g.ai + p * g.ap] * g.b[p * g.ldb + j];
      g.c[i * g.ldc + j] = acc;
    }
  }
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
  if (g.n % kLanes != 0) packedTail(g, g.n / kLanes * kLanes);
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

/** Transposes the 16 x 16 block in r (lane j of r[i] becomes lane i of r[j]): 64 shuffles. */
inline void transpose16x16(__m512 (&r)[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {  // per 128-bit quarter: [a0 b0 a1 b1], [a2 b2 a3 b3] of rows a, b
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // r[i + c], quarter q: rows i .. i + 3 at column 4q + c
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int c = 0; c < 4; c++) {  // column 4q + c: quarter q of r[c], r[4 + c], r[8 + c], r[12 + c]
    const __m512 ab01 = _mm512_shuffle_f32x4(r[c], r[4 + c], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 ab23 = _mm512_shuffle_f32x4(r[c], r[4 + c], _MM_SHUFFLE(3, 2, 3, 2));
    const __m512 cd01 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 cd23 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], _MM_SHUFFLE(3, 2, 3, 2));
    t[c] = _mm512_shuffle_f32x4(ab01, cd01, _MM_SHUFFLE(2, 0, 2, 0));
    t[4 + c] = _mm512_shuffle_f32x4(ab01, cd01, _MM_SHUFFLE(3, 1, 3, 1));
    t[8 + c] = _mm512_shuffle_f32x4(ab23, cd23, _MM_SHUFFLE(2, 0, 2, 0));
    t[12 + c] = _mm512_shuffle_f32x4(ab23, cd23, _MM_SHUFFLE(3, 1, 3, 1));
  }
  for (int i = 0; i < 16; i++) r[i] = t[i];
}

/** at (k vectors, 64-byte aligned) = A transposed: lane r of vector p is A[r, p], zero for rows r >= m (m <= 16). */
void transposeRows16(const SmallGemmArgs& g, float* at) {
  for (int64_t p0 = 0; p0 < g.k; p0 += 16) {
    const int64_t cols = g.k - p0 < 16 ? g.k - p0 : 16;
    const __mmask16 inside = static_cast<__mmask16>((1u << cols) - 1);
    __m512 r[16];
    for (int64_t i = 0; i < 16; i++) r[i] = i < g.m ? _mm512_maskz_loadu_ps(inside, g.a + i * g.lda + p0) : _mm512_setzero_ps();
    transpose16x16(r);
    for (int64_t q = 0; q < cols; q++) _mm512_store_ps(at + (p0 + q) * 16, r[q]);
  }
}

/**
 * Outputs of every row (m <= 16) at W rows j .. j + 15 over depths [p0, p1), from A transposed (transposeRows16):
 * W row j + c's 16 dot products build up in one vector, lane r for row r, from broadcasts of its elements, so the
 * sums need no lane reductions (the 4 x 4 dot blocks spend a fifth of their instructions on them at k = 256); one
 * 16 x 16 transpose turns the 16 vectors into output rows, which later depth chunks (p0 > 0) add to.
 */
void broadcastBlock16(const SmallGemmArgs& g, const float* at, int64_t j, int64_t p0, int64_t p1) {
  const float* w = g.w + j * g.ldw;
  __m512 acc[16];
  for (int c = 0; c < 16; c++) acc[c] = _mm512_setzero_ps();
  for (int64_t p = p0; p < p1; p++) {
    const __m512 av = _mm512_load_ps(at + p * 16);
    for (int c = 0; c < 16; c++) acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(w[c * g.ldw + p]), av, acc[c]);
  }
  transpose16x16(acc);  // lane c of acc[r]: out[r, j + c]
  const __m512 alpha = _mm512_set1_ps(g.alpha);
  for (int64_t r = 0; r < g.m; r++) {
    float* out = g.out + r * g.ldc + j;
    __m512 v;
    if (p0 > 0) {
      v = _mm512_fmadd_ps(acc[r], alpha, _mm512_loadu_ps(out));
    } else {
      v = _mm512_mul_ps(acc[r], alpha);
      if (g.beta != 0.0f) v = _mm512_fmadd_ps(_mm512_loadu_ps(out), _mm512_set1_ps(g.beta), v);
      if (g.bias != nullptr) v = _mm512_add_ps(v, _mm512_loadu_ps(g.bias + j));
    }
    _mm512_storeu_ps(out, v);
  }
}

/**
 * Columns [j, j1) in blocks of 16 by broadcastBlock16, depth in chunks of 256 so a chunk of A transposed and of
 * 16 W rows (16 KB each) stay in L1 across the blocks; returns where it stopped (the caller takes the rest).
 */
int64_t broadcastColumns(const SmallGemmArgs& g, int64_t j, int64_t j1) {
  constexpr int64_t kDepthChunk = 256;
  static thread_local std::vector<float> scratch;
  scratch.resize(g.k * 16 + 16);
  float* at = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t(63));
  transposeRows16(g, at);
  const int64_t end = j + (j1 - j) / 16 * 16;
  for (int64_t p0 = 0; p0 < g.k; p0 += kDepthChunk) {
    const int64_t p1 = g.k - p0 < kDepthChunk ? g.k : p0 + kDepthChunk;
    for (int64_t jb = j; jb < end; jb += 16) broadcastBlock16(g, at, jb, p0, p1);
  }
  return end;
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
  // Rows enough to fill most lanes, columns enough to repay the transpose of A, and W rows not a multiple of
  // 4 KB apart (16 of them would share one 12-way L1 set: 16 x 256 x 1024 took 52 us here against 39).
  if (g.m > 8 && g.m <= 16 && j1 - j >= 64 && g.ldw % 1024 != 0) j = broadcastColumns(g, j, j1);
#endif
  for (; j + kBlockN <= j1; j += kBlockN) {
    for (int64_t i = 0; i < g.m; i += kBlockM) dotBlockRows<kBlockN>(g, i, j);
  }
  for (; j < j1; j++) {
    for (int64_t i = 0; i < g.m; i += kBlockM) dotBlockRows<1>(g, i, j);
  }
}


/** See VMath::layerNormRows: statistics in float lanes per chunk of a row, the chunks' sums added in double. */
void layerNormRowsLoop(const LayerNormArgs& a, int64_t r0, int64_t r1) {
  const int64_t cols = a.cols;
  const float* gamma = a.gamma;
  const float* beta = a.beta;
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = a.x + r * cols;
    float* o = a.out + r * cols;
    // Σ (x - x0) with x0 the row's first value: float lanes within a chunk, double across chunks. Shifted so,
    // a row far from zero sums its small deviations, not values that float rounding would blur (mean 5, std 0.1).
    const float x0 = xr[0];
    double sum = 0.0;
    for (int64_t j0 = 0; j0 < cols; j0 += kFloatChunk) {
      const int64_t j1 = cols - j0 < kFloatChunk ? cols : j0 + kFloatChunk;
      float c = 0.0f;
#pragma omp simd reduction(+ : c)
      for (int64_t j = j0; j < j1; j++) c += xr[j] - x0;
      sum += c;
    }
    // The mean as a float and its remainder: x - hi is exact near the mean, so such rows also centre accurately
    // (rounding the mean alone would shift every x - mean by up to |mean| * 6e-8).
    const double mu = x0 + sum / static_cast<double>(cols);
    const float hi = static_cast<float>(mu);
    const float lo = static_cast<float>(mu - hi);
    double sq = 0.0;
    for (int64_t j0 = 0; j0 < cols; j0 += kFloatChunk) {
      const int64_t j1 = cols - j0 < kFloatChunk ? cols : j0 + kFloatChunk;
      float c = 0.0f;
#pragma omp simd reduction(+ : c)
      for (int64_t j = j0; j < j1; j++) {
        const float d = (xr[j] - hi) - lo;
        c += d * d;
      }
      sq += c;
    }
    const float rs = static_cast<float>(1.0 / __builtin_sqrt(sq / static_cast<double>(cols) + a.eps));
    a.mean[r] = hi;
    a.rstd[r] = rs;
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) o[j] = ((xr[j] - hi) - lo) * rs * gamma[j] + beta[j];
  }
}

/** See VMath::layerNormBackwardRows. */
void layerNormBackwardRowsLoop(const LayerNormArgs& a, int64_t r0, int64_t r1, float* pg, float* pb) {
  const int64_t cols = a.cols;
  const float* gamma = a.gamma;
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = a.x + r * cols;
    const float* g = a.dy + r * cols;
    float* o = a.dx + r * cols;
    const float mu = a.mean[r];
    const float rs = a.rstd[r];
    double sumG = 0.0;
    double sumGX = 0.0;
    for (int64_t j0 = 0; j0 < cols; j0 += kFloatChunk) {  // float lanes within a chunk, double across chunks
      const int64_t j1 = cols - j0 < kFloatChunk ? cols : j0 + kFloatChunk;
      float cg = 0.0f;
      float cgx = 0.0f;
#pragma omp simd reduction(+ : cg, cgx)
      for (int64_t j = j0; j < j1; j++) {
        const float xhat = (xr[j] - mu) * rs;
        const float gj = g[j] * gamma[j];
        cg += gj;
        cgx += gj * xhat;
        pg[j] += g[j] * xhat;
        pb[j] += g[j];
      }
      sumG += cg;
      sumGX += cgx;
    }
    const float meanG = static_cast<float>(sumG / static_cast<double>(cols));
    const float meanGX = static_cast<float>(sumGX / static_cast<double>(cols));
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) o[j] = rs * (g[j] * gamma[j] - meanG - (xr[j] - mu) * rs * meanGX);
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

/** Bit j set where x[j] > 0, for 32 floats (vector compares to a mask where the target has them). */
inline uint32_t positiveBits32(const float* x) {
#if defined(__AVX512F__)
  const __m512 zero = _mm512_setzero_ps();
  return static_cast<uint32_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(x), zero, _CMP_GT_OQ)) |
         static_cast<uint32_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(x + 16), zero, _CMP_GT_OQ)) << 16;
#elif defined(__AVX2__)
  uint32_t bits = 0;
  for (int q = 0; q < 4; q++) {
    const __m256 gt = _mm256_cmp_ps(_mm256_loadu_ps(x + 8 * q), _mm256_setzero_ps(), _CMP_GT_OQ);
    bits |= static_cast<uint32_t>(_mm256_movemask_ps(gt)) << (8 * q);
  }
  return bits;
#else
  uint32_t bits = 0;
  for (int j = 0; j < 32; j++) bits |= static_cast<uint32_t>(x[j] > 0.0f) << j;
  return bits;
#endif
}

/** See VMath::dropoutGradWords. */
void dropoutGradWordsLoop(const float* dy, int32_t* bits, float keep, int64_t w0, int64_t w1, bool relu, float* dx) {
  for (int64_t w = w0; w < w1; w++) {
    const float* d = dy + w * 32;
    float* o = dx + w * 32;
    if (relu) {
      const uint32_t b = static_cast<uint32_t>(bits[w]) & positiveBits32(d);
      bits[w] = static_cast<int32_t>(b);
#pragma omp simd
      for (int j = 0; j < 32; j++) o[j] = (b >> j) & 1u ? d[j] * keep : 0.0f;
    } else {
      const uint32_t b = static_cast<uint32_t>(bits[w]);
#pragma omp simd
      for (int j = 0; j < 32; j++) o[j] = d[j] * ((b >> j) & 1u ? keep : 0.0f);
    }
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

/** mt[p * np + j] = m[j * ld + p] for n rows of d values, np = vecCeil(n): transposeLoop's tiles, the padding zeroed. */
inline void transposeRows(const float* m, int64_t ld, int64_t n, int64_t d, float* mt) {
  const int64_t np = vecCeil(n);
  transposeLoop(m, ld, n, d, mt, np);
  for (int64_t p = 0; p < d; p++) {
    for (int64_t j = n; j < np; j++) mt[p * np + j] = 0.0f;
  }
}

/**
 * out[0, n) = softmax(scale * s + mask) for a row of scores padded to np (whole vectors), mask element j at
 * mask[j * maskCol] (nullptr: none); the padding becomes -inf, so the exps run on whole vectors, never a scalar tail.
 */
void softmaxPaddedRow(float* s, int64_t n, int64_t np, const float* mask, int64_t maskCol, float scale, float* out) {
#pragma omp simd
  for (int64_t j = 0; j < np; j++) s[j] *= scale;
  if (mask != nullptr) {
#pragma omp simd
    for (int64_t j = 0; j < n; j++) s[j] += mask[j * maskCol];
  }
  for (int64_t j = n; j < np; j++) s[j] = -__builtin_inff();
  Vec top = splat(-__builtin_inff());
  for (int64_t j = 0; j < np; j += kLanes) {
    const Vec x = loadVec(s + j);
    top = x > top ? x : top;  // NaNs skipped, as softmaxRow's max skips them
  }
  float mx = -__builtin_inff();
  for (int l = 0; l < kLanes; l++) mx = top[l] > mx ? top[l] : mx;
  if (mx == -__builtin_inff()) mx = 0.0f;  // every entry masked: the row sums to 0 and gives NaNs, as softmaxRow does
#pragma omp simd
  for (int64_t j = 0; j < np; j++) s[j] = vexpf(s[j] - mx);
  Vec sum = {};
  for (int64_t j = 0; j < np; j += kLanes) sum += loadVec(s + j);
  const float inv = 1.0f / sumLanes(sum);
#pragma omp simd
  for (int64_t j = 0; j < n; j++) out[j] = s[j] * inv;
}

/** See VMath::attentionScoresPair: K transposed once, Q K^T as one register-blocked product, then a softmax per row. */
void attentionScoresPairLoop(const AttentionPair& a) {
  const int64_t np = vecCeil(a.tk);
  float* kt = a.scratch;               // dK x np
  float* scores = kt + a.dK * np;      // tq x np
  transposeRows(a.k, a.ldk, a.tk, a.dK, kt);
  packedGemmLoop({a.q, a.ldq, 1, kt, np, scores, np, a.tq, np, a.dK});  // Q K^T
  for (int64_t i = 0; i < a.tq; i++) {
    softmaxPaddedRow(scores + i * np, a.tk, np, a.mask == nullptr ? nullptr : a.mask + i * a.maskRow, a.maskCol, a.scale,
                     a.probs + i * a.tk);
  }
}

/**
 * Row i of dP and of the weights through dropout: dp[j] *= f_j and pd[j] = p[j] f_j, f_j = keep or 0 by keep bit
 * bitBase + i * tk + j, taken 32 at a time from the two words the window spans.
 */
void dropRow(const AttentionPair& a, int64_t i, const float* p, float* dp, float* pd) {
  const int64_t e0 = a.bitBase + i * a.tk;
  for (int64_t j0 = 0; j0 < a.tk; j0 += 32) {
    const int64_t count = a.tk - j0 < 32 ? a.tk - j0 : 32;
    const int64_t e = e0 + j0;
    const int shift = static_cast<int>(e & 31);
    uint64_t bits = static_cast<uint32_t>(a.keepBits[e >> 5]);
    if (shift + count > 32) bits |= static_cast<uint64_t>(static_cast<uint32_t>(a.keepBits[(e >> 5) + 1])) << 32;
    const uint32_t window = static_cast<uint32_t>(bits >> shift);
#if defined(__AVX512F__)
    const __m512 keep = _mm512_set1_ps(a.keep);
    for (int64_t j = 0; j < count; j += 16) {  // the window's bits are the lanes' mask
      const __mmask16 lanes = static_cast<__mmask16>(count - j >= 16 ? 0xffffu : (1u << (count - j)) - 1u);
      const __mmask16 kept = static_cast<__mmask16>(window >> j) & lanes;
      const __m512 f = _mm512_maskz_mov_ps(kept, keep);
      _mm512_mask_storeu_ps(dp + j0 + j, lanes, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, dp + j0 + j), f));
      _mm512_mask_storeu_ps(pd + j0 + j, lanes, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, p + j0 + j), f));
    }
#else
    for (int64_t j = 0; j < count; j++) {
      const float f = (window >> j) & 1u ? a.keep : 0.0f;
      dp[j0 + j] *= f;
      pd[j0 + j] = p[j0 + j] * f;
    }
#endif
  }
}

/**
 * See VMath::attentionBackwardPair. dP = dOut V^T (V transposed once); per row, dropout and the softmax backward
 * dS = scale P (dP - Σ_j P dP); then dQ = dS K, dK = dS^T Q and dV = dropout(P)^T dOut, each one register-blocked
 * product written straight into the gradient's rows (the transposed operands read by broadcast, never copied).
 */
void attentionBackwardPairLoop(const AttentionPair& a) {
  const int64_t np = vecCeil(a.tk);
  float* vt = a.scratch;               // dV x np
  float* ds = vt + a.dV * np;          // tq x np: dP, then dS
  float* pd = ds + a.tq * np;          // tq x tk: the weights after dropout
  float* q = pd + a.tq * a.tk;         // tq x dK, the pair's rows gathered (each is read again and again)
  float* k = q + a.tq * a.dK;          // tk x dK
  float* go = k + a.tk * a.dK;         // tq x dV
  gatherRows(a.q, a.ldq, a.tq, a.dK, q);
  gatherRows(a.k, a.ldk, a.tk, a.dK, k);
  gatherRows(a.dOut, a.ldo, a.tq, a.dV, go);
  transposeRows(a.v, a.ldv, a.tk, a.dV, vt);
  packedGemmLoop({go, a.dV, 1, vt, np, ds, np, a.tq, np, a.dV});  // dP = dOut V^T
  const float* weights = a.keepBits == nullptr ? a.probs : pd;
  for (int64_t i = 0; i < a.tq; i++) {
    const float* pi = a.probs + i * a.tk;
    float* di = ds + i * np;
    if (a.keepBits != nullptr) dropRow(a, i, pi, di, pd + i * a.tk);
    double dot = 0.0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < a.tk; j++) dot += static_cast<double>(pi[j]) * di[j];
    const float d = static_cast<float>(dot);
#pragma omp simd
    for (int64_t j = 0; j < a.tk; j++) di[j] = a.scale * pi[j] * (di[j] - d);  // dS: softmax backward, the scores' scale
  }
  packedGemmLoop({ds, np, 1, k, a.dK, a.dq, a.lddq, a.tq, a.dK, a.tk});        // dQ = dS K
  packedGemmLoop({ds, 1, np, q, a.dK, a.dk, a.lddk, a.tk, a.dK, a.tq});        // dK = dS^T Q
  packedGemmLoop({weights, 1, a.tk, go, a.dV, a.dv, a.lddv, a.tk, a.dV, a.tq});  // dV = dropout(P)^T dOut
}

}  // namespace

extern const VMath VMATH_TABLE;
const VMath VMATH_TABLE = {VMATH_NAME, kLanes, kOneRowKernel, kLanes, expLoop, sigmoidLoop, softmaxRowLoop, softmaxGradRowLoop, ceStatsLoop, rowMaxLoop, biasRowMaxLoop, scaleShiftLoop,
                           adamLoop, smallGemmNTLoop, packedGemmLoop, transposeLoop, layerNormRowsLoop,
                           layerNormBackwardRowsLoop, sumColumnsLoop, drawKeepWordsLoop, dropoutGradWordsLoop, attendRowLoop,
                           attentionScoresPairLoop, attentionBackwardPairLoop};

}  // namespace aiayn
