#include "elementwise.h"

#include <algorithm>

#include "../threadpool.h"
#include "strided.h"

namespace graft {

// Splits [0, n) over the threads the size deserves and calls f(begin, end) on each share.
template <typename F>
static void parallel_ranges(int64_t n, F&& f) {
  parallel_run(threads_for(n, kElementwiseGrain), [&](int ith, int nth) {
    int64_t b, e;
    split_range(n, ith, nth, &b, &e);
    if (b < e) f(b, e);
  });
}

void fill(float* out, int64_t n, float value) {
  parallel_ranges(n, [&](int64_t b, int64_t e) { std::fill(out + b, out + e, value); });
}

void axpy(const float* x, float* y, int64_t n, float alpha) {
  const VecKernels& v = vec();
  parallel_ranges(n, [&](int64_t b, int64_t e) { v.axpy(x + b, y + b, e - b, alpha); });
}

void affine(const float* x, float* out, int64_t n, float alpha, float beta) {
  const VecKernels& v = vec();
  parallel_ranges(n, [&](int64_t b, int64_t e) { v.affine(x + b, out + b, e - b, alpha, beta); });
}

double sum_squares(const float* const* xs, const int64_t* lengths, int count) {
  const VecKernels& v = vec();
  double total = 0;
  // One buffer at a time, each split over threads; partial sums added in thread order (deterministic).
  for (int t = 0; t < count; t++) {
    const float* x = xs[t];
    const int64_t n = lengths[t];
    double part[256] = {};
    const int nth = threads_for(n, kElementwiseGrain);
    parallel_run(nth, [&](int ith, int n_threads) {
      int64_t b, e;
      split_range(n, ith, n_threads, &b, &e);
      part[ith] = v.sum_squares(x + b, e - b);
    });
    for (int i = 0; i < nth; i++) total += part[i];
  }
  return total;
}

void unary(Unary op, const float* x, float* out, int64_t n, float param) {
  const VecKernels& v = vec();
  // transcendental ops cost ~10x a load, so they deserve threads at smaller sizes
  const bool heavy = op == Unary::Exp || op == Unary::Log || op == Unary::Tanh || op == Unary::Sigmoid || op == Unary::Gelu ||
                     op == Unary::GeluTanh || op == Unary::Silu || op == Unary::Pow;
  parallel_run(threads_for(n * (heavy ? 8 : 1), kElementwiseGrain), [&](int ith, int nth) {
    int64_t b, e;
    split_range(n, ith, nth, &b, &e);
    if (b < e) v.unary(op, x + b, out + b, e - b, param);
  });
}

void unary_backward(Unary op, const float* x, const float* y, const float* dy, float* dx, int64_t n, float param) {
  const VecKernels& v = vec();
  parallel_run(threads_for(n * 4, kElementwiseGrain), [&](int ith, int nth) {
    int64_t b, e;
    split_range(n, ith, nth, &b, &e);
    if (b < e) v.unary_backward(op, x + b, y + b, dy + b, dx + b, e - b, param);
  });
}

// Dense row-major strides of shape.
static void dense_strides(const int64_t* shape, int nd, int64_t* out) {
  int64_t s = 1;
  for (int d = nd - 1; d >= 0; d--) {
    out[d] = s;
    s *= shape[d];
  }
}

static int64_t count_of(const int64_t* shape, int nd) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  return n;
}

void binary(Binary op, const float* a, const float* b, float* out, const int64_t* shape, int nd, const int64_t* a_strides,
            const int64_t* b_strides) {
  const int64_t n = count_of(shape, nd);
  if (n == 0) return;
  int64_t os[kMaxDims];
  dense_strides(shape, nd, os);
  const int64_t* strides[3] = {os, a_strides, b_strides};
  const NdIter<3> it = make_nd_iter<3>(shape, nd, strides);
  const VecKernels& v = vec();
  const int64_t inner = it.inner(), as = it.inner_stride(1), bs = it.inner_stride(2);
  const int64_t cost = op == Binary::Pow ? n * 8 : n;
  parallel_run(threads_for(cost, kElementwiseGrain), [&](int ith, int nth) {
    int64_t r0, r1;
    split_range(it.rows(), ith, nth, &r0, &r1);
    it.for_rows(r0, r1, [&](const int64_t* off) { v.binary(op, a + off[1], as, b + off[2], bs, out + off[0], inner); });
  });
}

void where(const float* cond, const float* a, const float* b, float* out, const int64_t* shape, int nd, const int64_t* c_strides,
           const int64_t* a_strides, const int64_t* b_strides) {
  const int64_t n = count_of(shape, nd);
  if (n == 0) return;
  int64_t os[kMaxDims];
  dense_strides(shape, nd, os);
  const int64_t* strides[4] = {os, c_strides, a_strides, b_strides};
  const NdIter<4> it = make_nd_iter<4>(shape, nd, strides);
  const int64_t inner = it.inner(), cs = it.inner_stride(1), as = it.inner_stride(2), bs = it.inner_stride(3);
  parallel_run(threads_for(n, kElementwiseGrain), [&](int ith, int nth) {
    int64_t r0, r1;
    split_range(it.rows(), ith, nth, &r0, &r1);
    it.for_rows(r0, r1, [&](const int64_t* off) {
      const float* c = cond + off[1];
      const float* x = a + off[2];
      const float* y = b + off[3];
      float* o = out + off[0];
      if (cs == 1 && as == 1 && bs == 1)
        for (int64_t i = 0; i < inner; i++) o[i] = c[i] != 0.0f ? x[i] : y[i];
      else
        for (int64_t i = 0; i < inner; i++) o[i] = c[i * cs] != 0.0f ? x[i * as] : y[i * bs];
    });
  });
}

}  // namespace graft
