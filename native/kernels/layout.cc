#include "layout.h"

#include <cstring>

#include "../threadpool.h"
#include "strided.h"

namespace graft {

// int32 addition wraps (as Int32Array stores do in JavaScript) instead of overflowing, which C++ leaves undefined.
static inline float add(float a, float b) { return a + b; }
static inline int32_t add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

template <typename T, bool kAccumulate>
static void copy_row(const T* s, int64_t ss, T* d, int64_t ds, int64_t n) {
  if (ss == 1 && ds == 1) {
    if (kAccumulate) for (int64_t i = 0; i < n; i++) d[i] = add(d[i], s[i]);
    else std::memmove(d, s, static_cast<size_t>(n) * sizeof(T));
  } else if (ss == 0 && kAccumulate) {
    for (int64_t i = 0; i < n; i++) d[i * ds] = add(d[i * ds], s[0]);
  } else if (ds == 0 && kAccumulate) {
    // a reduction into one element: sum the row first, in order
    T acc = d[0];
    for (int64_t i = 0; i < n; i++) acc = add(acc, s[i * ss]);
    d[0] = acc;
  } else {
    for (int64_t i = 0; i < n; i++) {
      if (kAccumulate) d[i * ds] = add(d[i * ds], s[i * ss]);
      else d[i * ds] = s[i * ss];
    }
  }
}

// A transpose of the last two axes (source contiguous along the second-to-last, destination along the last):
// walking either side row by row touches a new cache line per element on the other, so the plane is copied in
// kTile × kTile blocks, each small enough that both its source and destination lines stay in L1.
constexpr int64_t kTile = 32;

template <typename T, bool kAccumulate>
static void transpose_plane(const T* src, int64_t s_col, T* dst, int64_t d_row, int64_t rows, int64_t cols, int64_t r0, int64_t r1) {
  // element (r, c) is src[r + c*s_col] and dst[r*d_row + c]
  for (int64_t rb = r0; rb < r1; rb += kTile) {
    const int64_t re = rb + kTile < r1 ? rb + kTile : r1;
    for (int64_t cb = 0; cb < cols; cb += kTile) {
      const int64_t ce = cb + kTile < cols ? cb + kTile : cols;
      for (int64_t r = rb; r < re; r++)
        for (int64_t c = cb; c < ce; c++) {
          if (kAccumulate) dst[r * d_row + c] = add(dst[r * d_row + c], src[r + c * s_col]);
          else dst[r * d_row + c] = src[r + c * s_col];
        }
    }
  }
}

template <typename T, bool kAccumulate>
static bool try_transpose(const T* src, T* dst, const NdIter<2>& it) {
  const int nd = it.nd;
  if (nd < 2) return false;
  const int64_t rows = it.shape[nd - 2], cols = it.shape[nd - 1];
  const int64_t s_row = it.strides[0][nd - 2], s_col = it.strides[0][nd - 1];
  const int64_t d_row = it.strides[1][nd - 2], d_col = it.strides[1][nd - 1];
  if (s_row != 1 || d_col != 1 || s_col < kTile || d_row < kTile || rows < kTile || cols < kTile) return false;
  // the outer axes (all but the plane) index whole planes, which never overlap in dst (strides are non-zero)
  NdIter<2> outer = it;
  outer.nd = nd - 1;
  outer.shape[nd - 2] = 1;
  const int64_t planes = outer.rows();
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  const int nth = threads_for(planes * rows * cols, kElementwiseGrain);
  parallel_run(nth, [&](int ith, int n) {
    // split planes when there are enough, else the row tiles of each plane
    if (planes >= n) {
      int64_t p0, p1;
      split_range(planes, ith, n, &p0, &p1);
      outer.for_rows(p0, p1, [&](const int64_t* off) {
        transpose_plane<T, kAccumulate>(src + off[0], s_col, dst + off[1], d_row, rows, cols, 0, rows);
      });
    } else {
      int64_t t0, t1;
      split_range(row_tiles, ith, n, &t0, &t1);
      const int64_t r0 = t0 * kTile, r1 = t1 * kTile < rows ? t1 * kTile : rows;
      outer.for_rows(0, planes, [&](const int64_t* off) {
        transpose_plane<T, kAccumulate>(src + off[0], s_col, dst + off[1], d_row, rows, cols, r0, r1);
      });
    }
  });
  return true;
}

template <typename T, bool kAccumulate>
static void copy_all(const T* src, T* dst, const NdIter<2>& it) {
  const int64_t rows = it.rows(), inner = it.inner();
  const int64_t ss = it.inner_stride(0), ds = it.inner_stride(1);
  // Threads only when no two source elements land on the same destination element (no 0 stride in dst);
  // otherwise the order of the += (or of the overwrites) must stay the sequential one.
  bool dst_distinct = true;
  for (int d = 0; d < it.nd; d++) dst_distinct = dst_distinct && it.strides[1][d] != 0;
  if (dst_distinct && try_transpose<T, kAccumulate>(src, dst, it)) return;
  const int nth = dst_distinct ? threads_for(rows * inner, kElementwiseGrain) : 1;
  parallel_run(nth, [&](int ith, int n_threads) {
    int64_t r0, r1;
    split_range(rows, ith, n_threads, &r0, &r1);
    it.for_rows(r0, r1, [&](const int64_t* off) { copy_row<T, kAccumulate>(src + off[0], ss, dst + off[1], ds, inner); });
  });
}

void strided_copy(const void* src, int64_t src_offset, const int64_t* src_strides, void* dst, int64_t dst_offset,
                  const int64_t* dst_strides, const int64_t* shape, int nd, bool accumulate, bool is_int) {
  for (int d = 0; d < nd; d++)
    if (shape[d] == 0) return;
  const int64_t* strides[2] = {src_strides, dst_strides};
  const NdIter<2> it = make_nd_iter<2>(shape, nd, strides);
  if (is_int) {
    const int32_t* s = static_cast<const int32_t*>(src) + src_offset;
    int32_t* d = static_cast<int32_t*>(dst) + dst_offset;
    if (accumulate) copy_all<int32_t, true>(s, d, it);
    else copy_all<int32_t, false>(s, d, it);
  } else {
    const float* s = static_cast<const float*>(src) + src_offset;
    float* d = static_cast<float*>(dst) + dst_offset;
    if (accumulate) copy_all<float, true>(s, d, it);
    else copy_all<float, false>(s, d, it);
  }
}

}  // namespace graft
