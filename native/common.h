// Shared helpers of the aiayn native addon: argument validation (every bad argument becomes a JS exception,
// never a crash), zero-copy typed-array views, strided layouts and the OpenMP grain size.
#pragma once

#include <napi.h>
#include <signal.h>

#include <cstdint>
#include <vector>

namespace aiayn {

/** Below this many elements of work a kernel stays single-threaded: OpenMP start-up would cost more. */
constexpr int64_t kParallelGrain = 1 << 15;

/** Rows whose column sums (bias, gamma and beta gradients) accumulate in float before joining double totals. */
constexpr int64_t kSumBlock = 32;

/**
 * Runs `region` as an OpenMP parallel region when `parallel`, else once on the calling thread, where
 * omp_get_thread_num() is 0, omp_get_num_threads() is 1 and an orphaned `omp for` runs every iteration. Unlike
 * `#pragma omp parallel if (false)`, which still enters libgomp (about 1.5 us a call measured here, against
 * 0.2 us for a 256-element loop), the small case costs nothing.
 */
template <class Region>
inline void parallelIf(bool parallel, Region&& region) {
  if (parallel) {
#pragma omp parallel
    region();
  } else {
    region();
  }
}

/** A Float32Array argument seen without copying (data already includes the byteOffset). */
struct F32 {
  float* data;
  int64_t length;
};

/** An Int32Array argument seen without copying. */
struct I32 {
  int32_t* data;
  int64_t length;
};

/** A Uint32Array argument seen without copying. */
struct U32 {
  uint32_t* data;
  int64_t length;
};

/** A strided operand: buffer, element offset and one stride per dimension of the shape it is read over. */
struct StridedArg {
  float* data;
  int64_t offset;
  std::vector<int64_t> strides;
};

/** Blocks asynchronous signals on the calling thread while alive (see signals.cc: oneDNN's GEMM kernels). */
class SignalsHeld {
 public:
  SignalsHeld();
  ~SignalsHeld();
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t saved_;
};

/** Creates the OpenMP worker threads (up to the current thread count) with asynchronous signals blocked. */
void startThreadTeam();

/** Throws a JS TypeError (or RangeError when `range`) carrying `message`. */
[[noreturn]] void fail(Napi::Env env, const std::string& message, bool range = false);

/** Argument i as a Float32Array. */
F32 argF32(const Napi::CallbackInfo& info, size_t i, const char* name);
/** Argument i as an Int32Array. */
I32 argI32(const Napi::CallbackInfo& info, size_t i, const char* name);
/** Argument i as a Uint32Array. */
U32 argU32(const Napi::CallbackInfo& info, size_t i, const char* name);
/** Argument i as a number. */
double argNumber(const Napi::CallbackInfo& info, size_t i, const char* name);
/** Argument i as an integer number (any sign). */
int64_t argInt(const Napi::CallbackInfo& info, size_t i, const char* name);
/** Argument i as a non-negative integer. */
int64_t argSize(const Napi::CallbackInfo& info, size_t i, const char* name);
/** Argument i as a boolean. */
bool argBool(const Napi::CallbackInfo& info, size_t i, const char* name);
/** Argument i as an array of non-negative integers (a shape). */
std::vector<int64_t> argShape(const Napi::CallbackInfo& info, size_t i, const char* name);
/** Argument i as an index into a table of `count` op names. */
int argOp(const Napi::CallbackInfo& info, size_t i, int count, const char* name);
/**
 * Arguments i, i+1, i+2 (data, offset, strides) as a strided operand over `shape`, checked so that every
 * element it reaches lies inside the buffer.
 */
StridedArg argStrided(const Napi::CallbackInfo& info, size_t i, const std::vector<int64_t>& shape, const char* name);

/** Product of sizes, throwing on overflow. */
int64_t product(Napi::Env env, std::initializer_list<int64_t> sizes);
/** Product of a shape's sizes, throwing on overflow. */
int64_t shapeSize(Napi::Env env, const std::vector<int64_t>& shape);
/** Throws unless `a` holds at least `need` elements. */
void needLength(Napi::Env env, int64_t have, int64_t need, const char* name);

/** A JS array of op names in code order (the wrapper maps names to codes with it). */
Napi::Array opNames(Napi::Env env, const char* const* list, int count);

/** Columns of out dealt to the threads by smallGemmNT's callers in whole chunks (a multiple of every variant's block). */
constexpr int64_t kColumnChunk = 16;

/**
 * The columns [first, last) of n that this thread of the current team takes, whole kColumnChunk chunks in one
 * contiguous run (all of them outside a parallel region), so smallGemmNT sees each thread's share in one call.
 */
void teamColumns(int64_t n, int64_t* first, int64_t* last);

/**
 * Whether x W^T for `rows` rows of x and a weight W [n, k] (rows ldw apart) runs on VMath::smallGemmNT, the
 * columns split over the threads (a few rows, more than one thread: gemm.cc's kSmallRows), rather than on
 * dnnl_sgemm.
 */
bool linearOnSmallGemm(int64_t rows, int64_t n, int64_t k, int64_t ldw);

/**
 * out (rows x n) = x W^T + bias for dense x [rows, k] and a Linear weight W [n, k] (bias: nullptr or n values),
 * on the kernel gemm() picks for that shape (gemm.cc); false when oneDNN fails.
 */
bool linearRows(const float* x, int64_t rows, int64_t k, const float* w, int64_t n, const float* bias, float* out);

/** Registers the functions of each kernel family on `exports`. */
void initElementwise(Napi::Env env, Napi::Object exports);
void initReduce(Napi::Env env, Napi::Object exports);
void initGemm(Napi::Env env, Napi::Object exports);
void initSoftmax(Napi::Env env, Napi::Object exports);
void initLayerNorm(Napi::Env env, Napi::Object exports);
void initLoss(Napi::Env env, Napi::Object exports);
void initEmbeddingAdam(Napi::Env env, Napi::Object exports);
void initDropout(Napi::Env env, Napi::Object exports);
void initDecoderStep(Napi::Env env, Napi::Object exports);
void initAttention(Napi::Env env, Napi::Object exports);

}  // namespace aiayn
