#include "nn.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "../threadpool.h"

namespace graft {

namespace {

// Runs f(r0, r1) over row shares; `cost_per_element` weighs transcendental-heavy rows.
template <typename F>
void parallel_rows(int64_t rows, int64_t cols, int64_t cost_per_element, F&& f) {
  parallel_run(threads_for(rows * cols * cost_per_element, kElementwiseGrain), [&](int ith, int nth) {
    int64_t r0, r1;
    split_range(rows, ith, nth, &r0, &r1);
    if (r0 < r1) f(r0, r1);
  });
}

// Row-parallel kernels whose parameter gradients (width cols) sum over rows: each thread accumulates into its own
// zeroed partial buffer(s), then the partials are added to the outputs in thread order.
template <typename F>
void parallel_rows_with_partials(int64_t rows, int64_t cols, int64_t cost, int n_outputs, float* const* outputs, F&& f) {
  const int nth = threads_for(rows * cols * cost, kElementwiseGrain);
  std::vector<float> partial(static_cast<size_t>(nth) * n_outputs * cols, 0.0f);
  parallel_run(nth, [&](int ith, int n) {
    int64_t r0, r1;
    split_range(rows, ith, n, &r0, &r1);
    if (r0 < r1) f(r0, r1, partial.data() + static_cast<size_t>(ith) * n_outputs * cols);
  });
  for (int t = 0; t < nth; t++)
    for (int o = 0; o < n_outputs; o++) {
      const float* src = partial.data() + (static_cast<size_t>(t) * n_outputs + o) * cols;
      float* dst = outputs[o];
      for (int64_t c = 0; c < cols; c++) dst[c] += src[c];
    }
}

}  // namespace

void softmax(const float* x, float* out, int64_t rows, int64_t cols, bool log) {
  const VecKernels& v = vec();
  parallel_rows(rows, cols, 4, [&](int64_t r0, int64_t r1) { v.softmax_rows(x, out, r0, r1, cols, log); });
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool log, float scale) {
  const VecKernels& v = vec();
  parallel_rows(rows, cols, log ? 4 : 1, [&](int64_t r0, int64_t r1) { v.softmax_backward_rows(y, dy, dx, r0, r1, cols, log, scale); });
}

void attention_softmax(const float* x, const float* keep, float* out, const AttentionSoftmaxParams& p, const int32_t* segments) {
  const VecKernels& v = vec();
  const int64_t rows = p.batch * p.heads * p.queries;
  parallel_rows(rows, p.keys, 4, [&](int64_t r0, int64_t r1) {
    v.masked_softmax_rows(x, out, r0, r1, p.keys, p.scale, keep, p.heads * p.queries, p.queries, p.causal, p.keys - p.queries,
                          segments);
  });
}

void layer_norm(const float* x, const float* gamma, const float* beta, float* out, float* mean, float* rstd, int64_t rows,
                int64_t cols, float eps) {
  const VecKernels& v = vec();
  parallel_rows(rows, cols, 1, [&](int64_t r0, int64_t r1) { v.layer_norm_rows(x, gamma, beta, out, mean, rstd, r0, r1, cols, eps); });
}

void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd, float* dx,
                         float* dgamma, float* dbeta, int64_t rows, int64_t cols) {
  const VecKernels& v = vec();
  float* outputs[2] = {dgamma, dbeta};
  parallel_rows_with_partials(rows, cols, 2, 2, outputs, [&](int64_t r0, int64_t r1, float* part) {
    v.layer_norm_backward_rows(dy, x, gamma, mean, rstd, dx, part, part + cols, r0, r1, cols);
  });
}

void embedding(const float* table, const int32_t* ids, float* out, int64_t rows, int64_t dim) {
  parallel_rows(rows, dim, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++)
      std::memcpy(out + r * dim, table + static_cast<int64_t>(ids[r]) * dim, static_cast<size_t>(dim) * sizeof(float));
  });
}

void embedding_backward(const float* dy, const int32_t* ids, float* dtable, int64_t rows, int64_t dim) {
  // Repeated ids add into the same table row, so threads split the columns, not the rows.
  parallel_run(threads_for(rows * dim, kElementwiseGrain), [&](int ith, int nth) {
    int64_t c0, c1;
    split_range(dim, ith, nth, &c0, &c1);
    for (int64_t r = 0; r < rows; r++) {
      const float* g = dy + r * dim;
      float* t = dtable + static_cast<int64_t>(ids[r]) * dim;
      for (int64_t c = c0; c < c1; c++) t[c] += g[c];
    }
  });
}

void dropout(const float* x, float* out, float* mask, int64_t n, double p, uint32_t seed) {
  // keep element i when (hash >> 8) / 2^24 >= p, i.e. (hash >> 8) >= ceil(p · 2^24): one integer compare per element
  uint32_t threshold;
  double scale = 1.0 / (1.0 - p);
  if (!(p > 0.0)) threshold = 0;  // p <= 0 keeps everything (p NaN drops everything, below)
  else if (p >= 1.0) threshold = 1u << 24;
  else threshold = static_cast<uint32_t>(std::ceil(p * 16777216.0));
  if (std::isnan(p)) threshold = 1u << 24;
  if (threshold == (1u << 24)) scale = 0.0;  // nothing kept: the mask is all zeros whatever 1/(1-p) is
  const VecKernels& v = vec();
  parallel_run(threads_for(n * 2, kElementwiseGrain), [&](int ith, int nth) {
    int64_t b, e;
    split_range(n, ith, nth, &b, &e);
    if (b < e) v.dropout(x + b, out + b, mask + b, e - b, b, seed, threshold, scale);
  });
}

static CrossEntropyRowArgs row_args(const float* weights, const CrossEntropyParams& p) {
  double wsum = static_cast<double>(p.classes);
  if (weights != nullptr) {
    wsum = 0;
    for (int64_t c = 0; c < p.classes; c++) wsum += weights[c];
  }
  return {p.classes, p.ignore_index, p.smoothing, weights, wsum};
}

void cross_entropy(const float* logits, const int32_t* targets, const float* weights, float* losses, const CrossEntropyParams& p) {
  const VecKernels& v = vec();
  const CrossEntropyRowArgs a = row_args(weights, p);
  parallel_rows(p.rows, p.classes, 4, [&](int64_t r0, int64_t r1) { v.cross_entropy_rows(logits, targets, losses, r0, r1, a); });
}

void cross_entropy_backward(const float* logits, const int32_t* targets, const float* weights, const float* dlosses, float* dlogits,
                            const CrossEntropyParams& p) {
  const VecKernels& v = vec();
  const CrossEntropyRowArgs a = row_args(weights, p);
  parallel_rows(p.rows, p.classes, 4,
                [&](int64_t r0, int64_t r1) { v.cross_entropy_backward_rows(logits, targets, dlosses, dlogits, r0, r1, a); });
}

int64_t cross_entropy_first_bad_target(const int32_t* targets, const CrossEntropyParams& p) {
  for (int64_t r = 0; r < p.rows; r++) {
    const int32_t t = targets[r];
    if (t != p.ignore_index && (t < 0 || t >= p.classes)) return r;
  }
  return -1;
}

void bias_activation(Activation act, const float* x, const float* bias, float* out, int64_t rows, int64_t cols) {
  const VecKernels& v = vec();
  parallel_rows(rows, cols, act == Activation::Identity || act == Activation::Relu ? 1 : 8,
                [&](int64_t r0, int64_t r1) { v.bias_act_rows(act, x, bias, out, r0, r1, cols); });
}

void bias_activation_backward(Activation act, const float* x, const float* bias, const float* dy, float* dx, float* dbias, int64_t rows,
                              int64_t cols) {
  const VecKernels& v = vec();
  float* outputs[1] = {dbias};
  parallel_rows_with_partials(rows, cols, 8, 1, outputs, [&](int64_t r0, int64_t r1, float* part) {
    v.bias_act_backward_rows(act, x, bias, dy, dx, part, r0, r1, cols);
  });
}

}  // namespace graft
