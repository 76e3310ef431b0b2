#include "reduce.h"

#include <cmath>
#include <limits>
#include <vector>

#include "../threadpool.h"

namespace graft {

namespace {

constexpr int kLanes = 8;

double sum_contiguous(const float* x, int64_t n) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; l++) acc[l] += x[i + l];
  double s = 0;
  for (int l = 0; l < kLanes; l++) s += acc[l];
  for (; i < n; i++) s += x[i];
  return s;
}

// Splits the outer × inner output over threads: by outer rows when there are enough, else by inner columns.
template <typename F>
void parallel_outer_inner(int64_t outer, int64_t dim, int64_t inner, F&& f) {
  const int nth = threads_for(outer * dim * inner, kElementwiseGrain);
  parallel_run(nth, [&](int ith, int n) {
    if (outer >= n || inner == 1) {
      int64_t o0, o1;
      split_range(outer, ith, n, &o0, &o1);
      if (o0 < o1) f(o0, o1, int64_t{0}, inner);
    } else {
      int64_t i0, i1;
      split_range(inner, ith, n, &i0, &i1);
      if (i0 < i1) f(int64_t{0}, outer, i0, i1);
    }
  });
}

}  // namespace

void reduce(Reduce op, const float* x, float* out, int64_t outer, int64_t dim, int64_t inner) {
  if (outer == 0 || inner == 0) return;
  if (dim == 0) {
    const float v = op == Reduce::Sum ? 0.0f : std::numeric_limits<float>::quiet_NaN();
    for (int64_t i = 0; i < outer * inner; i++) out[i] = v;
    return;
  }
  parallel_outer_inner(outer, dim, inner, [&](int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
    const int64_t w = i1 - i0;
    std::vector<double> acc(op == Reduce::Sum && inner > 1 ? w : 0);
    std::vector<float> best(op != Reduce::Sum && inner > 1 ? w : 0);
    std::vector<unsigned char> nan(op != Reduce::Sum && inner > 1 ? w : 0);
    for (int64_t o = o0; o < o1; o++) {
      const float* xo = x + o * dim * inner;
      float* yo = out + o * inner;
      if (inner == 1) {
        if (op == Reduce::Sum) {
          yo[0] = static_cast<float>(sum_contiguous(xo, dim));
        } else {
          float b = xo[0];
          bool any_nan = false;
          for (int64_t d = 0; d < dim; d++) {
            const float v = xo[d];
            any_nan = any_nan || v != v;
            b = op == Reduce::Max ? (v > b ? v : b) : (v < b ? v : b);
          }
          yo[0] = any_nan ? std::numeric_limits<float>::quiet_NaN() : b;
        }
        continue;
      }
      // inner > 1: walk the dim rows of width w, each contiguous
      if (op == Reduce::Sum) {
        for (int64_t i = 0; i < w; i++) acc[i] = 0.0;
        for (int64_t d = 0; d < dim; d++) {
          const float* row = xo + d * inner + i0;
          for (int64_t i = 0; i < w; i++) acc[i] += row[i];
        }
        for (int64_t i = 0; i < w; i++) yo[i0 + i] = static_cast<float>(acc[i]);
      } else {
        for (int64_t i = 0; i < w; i++) {
          best[i] = xo[i0 + i];
          nan[i] = 0;
        }
        for (int64_t d = 0; d < dim; d++) {
          const float* row = xo + d * inner + i0;
          for (int64_t i = 0; i < w; i++) {
            const float v = row[i];
            nan[i] |= v != v;
            best[i] = op == Reduce::Max ? (v > best[i] ? v : best[i]) : (v < best[i] ? v : best[i]);
          }
        }
        for (int64_t i = 0; i < w; i++) yo[i0 + i] = nan[i] ? std::numeric_limits<float>::quiet_NaN() : best[i];
      }
    }
  });
}

void arg_reduce(bool is_max, const float* x, int32_t* out, int64_t outer, int64_t dim, int64_t inner) {
  if (outer == 0 || inner == 0) return;
  parallel_outer_inner(outer, dim, inner, [&](int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
    for (int64_t o = o0; o < o1; o++)
      for (int64_t i = i0; i < i1; i++) {
        const float* xi = x + o * dim * inner + i;
        int64_t best = 0;
        float bv = dim > 0 ? xi[0] : 0.0f;
        for (int64_t d = 1; d < dim; d++) {
          if (bv != bv) break;  // a NaN is the answer once found
          const float v = xi[d * inner];
          if (v != v || (is_max ? v > bv : v < bv)) {
            bv = v;
            best = d;
          }
        }
        out[o * inner + i] = static_cast<int32_t>(best);
      }
  });
}

void gather_axis(const float* x, const int32_t* idx, float* out, int64_t outer, int64_t dim, int64_t inner) {
  parallel_outer_inner(outer, 1, inner, [&](int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
    for (int64_t o = o0; o < o1; o++)
      for (int64_t i = i0; i < i1; i++) out[o * inner + i] = x[(o * dim + idx[o * inner + i]) * inner + i];
  });
}

void scatter_add_axis(const float* dy, const int32_t* idx, float* dx, int64_t outer, int64_t dim, int64_t inner) {
  // Distinct (o, i) pairs never write the same element, so outer rows or inner columns split safely.
  parallel_outer_inner(outer, 1, inner, [&](int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
    for (int64_t o = o0; o < o1; o++)
      for (int64_t i = i0; i < i1; i++) dx[(o * dim + idx[o * inner + i]) * inner + i] += dy[o * inner + i];
  });
}

int64_t first_out_of_range(const int32_t* idx, int64_t n, int64_t limit) {
  for (int64_t i = 0; i < n; i++)
    if (idx[i] < 0 || idx[i] >= limit) return i;
  return -1;
}

}  // namespace graft
