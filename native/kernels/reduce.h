// Reductions over the middle axis of [outer, n, inner] (src/backend/ts/reduce.ts): sum and sum of squares
// (accumulated in double) and max (NaN wins), plus argmax (first maximum wins, NaN never does), matching the TypeScript oracle.
#pragma once

#include <cstdint>

namespace aiayn {

/** Reduce op codes, in the order of kReduceOpNames. */
enum ReduceOp { kSum, kMax, kSumSquares, kReduceOpCount };

/** Names of the reduce ops in code order. */
constexpr const char* kReduceOpNames[kReduceOpCount] = {"sum", "max", "sumSquares"};

/** Contiguous x viewed as [outer, n, inner], reduced over n. */
struct ReduceInput {
  const float* x;
  int64_t outer, n, inner;
};

/** Sum, max or sum of squares (op) over n into out [outer, inner]. */
struct ReduceArgs {
  int op;
  ReduceInput in;
  float* out;
};
/** Runs the reduction. */
void reduce(const ReduceArgs& g);

/** The index of the maximum over n into out [outer, inner]. */
struct ArgmaxArgs {
  ReduceInput in;
  int32_t* out;
};
/** Runs argmax. */
void argmax(const ArgmaxArgs& g);

}  // namespace aiayn
