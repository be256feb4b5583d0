// Walking N strided operands in row-major order of an output shape, in parallel over element ranges.
// Dimensions of size 1 are dropped and adjacent dimensions that are contiguous for every operand merged,
// so a dense or simply broadcast operation becomes one long inner loop.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "kernels/parallel.h"

namespace aiayn {

/** A strided operand: buffer, element offset and one stride per dimension of the shape it is read over. */
struct StridedRef {
  float* data;
  int64_t offset;
  std::vector<int64_t> strides;
};

/** Shape and per-operand strides after merging, plus the operands' base offsets. */
template <size_t N>
struct Layout {
  std::vector<int64_t> shape;
  std::array<std::vector<int64_t>, N> strides;
  std::array<int64_t, N> base;
  int64_t total = 0;
};

/** Builds the merged layout of `shape` for operands with the given strides and offsets. */
template <size_t N>
Layout<N> makeLayout(const std::vector<int64_t>& shape, const std::array<const std::vector<int64_t>*, N>& strides,
                     const std::array<int64_t, N>& base) {
  Layout<N> l;
  l.base = base;
  l.total = 1;
  for (int64_t s : shape) l.total *= s;
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] == 1) continue;
    bool merge = !l.shape.empty();
    for (size_t k = 0; k < N && merge; k++) merge = l.strides[k].back() == (*strides[k])[d] * shape[d];
    if (merge) {
      l.shape.back() *= shape[d];
      for (size_t k = 0; k < N; k++) l.strides[k].back() = (*strides[k])[d];
    } else {
      l.shape.push_back(shape[d]);
      for (size_t k = 0; k < N; k++) l.strides[k].push_back((*strides[k])[d]);
    }
  }
  if (l.shape.empty()) {
    l.shape.push_back(1);
    for (size_t k = 0; k < N; k++) l.strides[k].push_back(0);
  }
  return l;
}

/** Row-major contiguous strides of `shape`. */
inline std::vector<int64_t> contiguousStrides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size());
  int64_t acc = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/**
 * Calls seg(len, offsets, innerStrides) for runs of the innermost dimension covering all elements, split across
 * threads when the work is large. offsets[k] is operand k's element offset at the run's start.
 */
template <size_t N, class Seg>
void forEachRun(const Layout<N>& l, Seg seg) {
  if (l.total == 0) return;
  const size_t rank = l.shape.size();
  const int64_t last = l.shape[rank - 1];
  std::array<int64_t, N> inner;
  for (size_t k = 0; k < N; k++) inner[k] = l.strides[k][rank - 1];
  parallelIf(l.total >= kParallelGrain, [&] {
    int64_t begin, end;
    teamRange(l.total, &begin, &end);
    std::vector<int64_t> idx(rank);
    std::array<int64_t, N> off = l.base;
    int64_t rest = begin;
    for (size_t d = rank; d-- > 0;) {
      idx[d] = rest % l.shape[d];
      rest /= l.shape[d];
      for (size_t k = 0; k < N; k++) off[k] += idx[d] * l.strides[k][d];
    }
    for (int64_t pos = begin; pos < end;) {
      const int64_t len = std::min(last - idx[rank - 1], end - pos);
      seg(len, off, inner);
      pos += len;
      idx[rank - 1] += len;
      for (size_t k = 0; k < N; k++) off[k] += len * inner[k];
      for (size_t d = rank - 1; d > 0 && idx[d] == l.shape[d]; d--) {
        idx[d] = 0;
        idx[d - 1]++;
        for (size_t k = 0; k < N; k++) off[k] += l.strides[k][d - 1] - l.shape[d] * l.strides[k][d];
      }
    }
  });
}

}  // namespace aiayn
