// Neural-network kernels: softmax (plain, log, and the fused scaled + masked attention form), layer norm,
// embedding lookup, dropout, softmax cross-entropy, and bias + activation. Each forward/backward pair shares one
// dimension vocabulary (rows, cols); statistics backward needs (mean, rstd) are outputs of forward; parameter
// gradients (dgamma, dbeta, dbias, the embedding table) accumulate.
//
// Rows are independent, so each kernel splits rows over the pool; the parameter-gradient sums across rows are
// first made per thread and then added in thread order, so results are deterministic for a given thread count.
// Kernels that index memory with caller data (ids, targets) must only be called after first_out_of_range
// (reduce.h) has passed.
#pragma once

#include <cstdint>

#include "vec.h"

namespace graft {

void softmax(const float* x, float* out, int64_t rows, int64_t cols, bool log);
// dx = scale · softmax'(y)·dy (log-softmax' when log)
void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool log, float scale);

struct AttentionSoftmaxParams {
  int64_t batch, heads, queries, keys;
  float scale;
  bool causal;  // key k is hidden from query q when k > q + (keys - queries)
};
// out = softmax over keys of scale·x, x and out [batch, heads, queries, keys]; keep [batch, keys] (or null):
// keys with keep == 0 get probability 0; a row with every key hidden is all zeros. segments [batch, keys] i32 (or
// null, needs queries <= keys): key k is hidden from query q unless segments[b, k] == segments[b, q + keys - queries].
void attention_softmax(const float* x, const float* keep, float* out, const AttentionSoftmaxParams& p,
                       const int32_t* segments = nullptr);

void layer_norm(const float* x, const float* gamma, const float* beta, float* out, float* mean, float* rstd, int64_t rows,
                int64_t cols, float eps);
void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd, float* dx,
                         float* dgamma, float* dbeta, int64_t rows, int64_t cols);

void embedding(const float* table, const int32_t* ids, float* out, int64_t rows, int64_t dim);
void embedding_backward(const float* dy, const int32_t* ids, float* dtable, int64_t rows, int64_t dim);

// mask[i] = keep(seed, i) ? 1/(1-p) : 0; out = x · mask
void dropout(const float* x, float* out, float* mask, int64_t n, double p, uint32_t seed);

struct CrossEntropyParams {
  int64_t rows, classes;
  int32_t ignore_index;
  float smoothing;
};
// Targets must be valid (or ignore_index): see cross_entropy_first_bad_target.
void cross_entropy(const float* logits, const int32_t* targets, const float* weights, float* losses, const CrossEntropyParams& p);
void cross_entropy_backward(const float* logits, const int32_t* targets, const float* weights, const float* dlosses, float* dlogits,
                            const CrossEntropyParams& p);
// Row of the first target that is neither ignore_index nor in [0, classes), or -1.
int64_t cross_entropy_first_bad_target(const int32_t* targets, const CrossEntropyParams& p);

void bias_activation(Activation act, const float* x, const float* bias, float* out, int64_t rows, int64_t cols);
void bias_activation_backward(Activation act, const float* x, const float* bias, const float* dy, float* dx, float* dbias, int64_t rows,
                              int64_t cols);

}  // namespace graft
