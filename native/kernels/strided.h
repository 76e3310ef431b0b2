// Walking N-d strided operands (broadcast binary ops, `where`, strided copies) as a sequence of rows.
//
// Dimensions of size 1 are dropped and neighbouring dimensions that every operand walks contiguously
// (stride[d] == stride[d+1] · shape[d+1]) are merged, so a broadcast add of [B, T, C] + [C] becomes rows of C and a
// dense copy becomes one long row. The innermost dimension is then a row handed to a tight loop; rows split over
// threads, each thread finding its first row's offsets by division and the rest with an odometer.
#pragma once

#include <cstdint>

namespace graft {

constexpr int kMaxDims = 16;

template <int NOPS>
struct NdIter {
  int nd = 1;
  int64_t shape[kMaxDims] = {1};
  int64_t strides[NOPS][kMaxDims] = {};

  int64_t rows() const {
    int64_t r = 1;
    for (int d = 0; d + 1 < nd; d++) r *= shape[d];
    return r;
  }
  int64_t inner() const { return shape[nd - 1]; }
  int64_t inner_stride(int op) const { return strides[op][nd - 1]; }

  // Calls f(offsets[NOPS]) for rows [r0, r1); offsets index each operand's first element of the row.
  template <typename F>
  void for_rows(int64_t r0, int64_t r1, F&& f) const {
    if (r0 >= r1) return;
    int64_t idx[kMaxDims] = {};
    int64_t off[NOPS] = {};
    int64_t rem = r0;
    for (int d = nd - 2; d >= 0; d--) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
      for (int t = 0; t < NOPS; t++) off[t] += idx[d] * strides[t][d];
    }
    for (int64_t r = r0; r < r1; r++) {
      f(off);
      for (int d = nd - 2; d >= 0; d--) {
        idx[d]++;
        for (int t = 0; t < NOPS; t++) off[t] += strides[t][d];
        if (idx[d] < shape[d]) break;
        for (int t = 0; t < NOPS; t++) off[t] -= strides[t][d] * shape[d];
        idx[d] = 0;
      }
    }
  }
};

// Builds the collapsed iteration space of `shape` (nd <= kMaxDims) for NOPS operands.
template <int NOPS>
NdIter<NOPS> make_nd_iter(const int64_t* shape, int nd, const int64_t* const strides[NOPS]) {
  NdIter<NOPS> it;
  int out = 0;
  for (int d = 0; d < nd; d++) {
    if (shape[d] == 1) continue;
    bool merge = out > 0;
    for (int t = 0; t < NOPS && merge; t++) merge = it.strides[t][out - 1] == strides[t][d] * shape[d];
    if (merge) {
      it.shape[out - 1] *= shape[d];
      for (int t = 0; t < NOPS; t++) it.strides[t][out - 1] = strides[t][d];
    } else {
      it.shape[out] = shape[d];
      for (int t = 0; t < NOPS; t++) it.strides[t][out] = strides[t][d];
      out++;
    }
  }
  if (out == 0) {
    it.shape[0] = 1;
    for (int t = 0; t < NOPS; t++) it.strides[t][0] = 0;
    out = 1;
  }
  it.nd = out;
  return it;
}

}  // namespace graft
