// The inner loops of every non-GEMM kernel, compiled three times (vec_portable.cc, vec_avx2.cc, vec_avx512.cc,
// each with its own ISA flags, from the one source vec_impl.inc) and picked once at load through this table.
//
// Each entry works on a contiguous range (or a range of rows) on the calling thread; the drivers in
// elementwise.cc, nn.cc, optim.cc and reduce.cc validate sizes, split the work over the thread pool and call in.
// Entries are written as plain loops (reductions as explicit lane arrays) so the compiler vectorizes them at the
// width the file is compiled for; transcendental functions come from vecmath.h.
#pragma once

#include <cstdint>

namespace graft {

enum class Unary : int { Neg, Exp, Log, Sqrt, Rsqrt, Tanh, Sigmoid, Relu, Gelu, GeluTanh, Silu, Abs, Square, Reciprocal, Pow };
enum class Binary : int { Add, Sub, Mul, Div, Max, Min, Pow, Eq, Gt, Lt };
// The activations a bias can be fused with (a subset of Unary plus the identity).
enum class Activation : int { Identity, Relu, Gelu, GeluTanh, Silu, Tanh, Sigmoid };

struct CrossEntropyRowArgs {
  int64_t classes;
  int32_t ignore_index;
  float smoothing;
  const float* weights;  // [classes] or null
  double weight_sum;     // Σ weights (classes when unweighted)
};

struct AdamConsts {
  float lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  float step_size;    // lr / (1 - beta1^t)
  float inv_bc2_sqrt; // 1 / sqrt(1 - beta2^t)
};

struct SgdConsts {
  float lr, momentum, dampening, weight_decay;
  bool nesterov, first_step;
};

struct VecKernels {
  const char* name;

  // ---- elementwise over n contiguous elements
  void (*unary)(Unary op, const float* x, float* out, int64_t n, float param);
  void (*unary_backward)(Unary op, const float* x, const float* y, const float* dy, float* dx, int64_t n, float param);
  // out[i] = a[i*as] op b[i*bs] for i < n (strides 0 broadcast)
  void (*binary)(Binary op, const float* a, int64_t as, const float* b, int64_t bs, float* out, int64_t n);
  void (*axpy)(const float* x, float* y, int64_t n, float alpha);
  void (*affine)(const float* x, float* out, int64_t n, float alpha, float beta);
  double (*sum_squares)(const float* x, int64_t n);
  // mask[i] = keep(seed, first + i) ? scale : 0; out = x * mask (the product rounded once from double, as in JS)
  void (*dropout)(const float* x, float* out, float* mask, int64_t n, int64_t first, uint32_t seed, uint32_t threshold, double scale);

  // ---- row kernels over rows [r0, r1) of [rows, cols] matrices
  void (*softmax_rows)(const float* x, float* out, int64_t r0, int64_t r1, int64_t cols, bool log);
  void (*softmax_backward_rows)(const float* y, const float* dy, float* dx, int64_t r0, int64_t r1, int64_t cols, bool log, float scale);
  // Attention softmax over the keys of scale·x, rows of [batch, heads, queries, keys] flattened: entries with
  // keep[b, c] == 0 (keep may be null) or, when causal, c > query + causal_offset get probability 0; with segments
  // ([batch, cols] i32, may be null) so do entries with segments[b, c] != segments[b, query + causal_offset].
  void (*masked_softmax_rows)(const float* x, float* out, int64_t r0, int64_t r1, int64_t cols, float scale, const float* keep,
                              int64_t rows_per_batch, int64_t queries, bool causal, int64_t causal_offset, const int32_t* segments);
  void (*layer_norm_rows)(const float* x, const float* gamma, const float* beta, float* out, float* mean, float* rstd, int64_t r0,
                          int64_t r1, int64_t cols, float eps);
  // dx rows overwritten; dgamma, dbeta accumulate (callers give each thread its own partial buffers)
  void (*layer_norm_backward_rows)(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                                   float* dx, float* dgamma, float* dbeta, int64_t r0, int64_t r1, int64_t cols);
  void (*cross_entropy_rows)(const float* logits, const int32_t* targets, float* losses, int64_t r0, int64_t r1,
                             const CrossEntropyRowArgs& a);
  void (*cross_entropy_backward_rows)(const float* logits, const int32_t* targets, const float* dlosses, float* dlogits, int64_t r0,
                                      int64_t r1, const CrossEntropyRowArgs& a);
  // out = act(x + bias[c])
  void (*bias_act_rows)(Activation act, const float* x, const float* bias, float* out, int64_t r0, int64_t r1, int64_t cols);
  // dx = dy · act'(x + bias); dbias[c] += Σ_r dx[r, c] (dbias per thread)
  void (*bias_act_backward_rows)(Activation act, const float* x, const float* bias, const float* dy, float* dx, float* dbias,
                                 int64_t r0, int64_t r1, int64_t cols);

  // ---- matrix-vector products (GEMM's path for a few rows of A, gemm.cc)
  // y[i*ldy + j] (+)= Σ_p x[i*ldx + p] · w[j*ldw + p] for rows i < m of x and rows j in [j0, j1) of w: each row of w
  // is read once for all m rows of x (a decoder's step against a weight stored [out, in])
  void (*dot_rows)(const float* x, int64_t ldx, int64_t m, const float* w, int64_t ldw, float* y, int64_t ldy, int64_t j0,
                   int64_t j1, int64_t k, bool accumulate);

  // ---- optimizers over one parameter's elements [0, n)
  void (*adam)(float* p, const float* g, float* m, float* v, int64_t n, const AdamConsts& c);
  void (*sgd)(float* p, const float* g, float* buf, int64_t n, const SgdConsts& c);
};

const VecKernels& vec_kernels_portable();
const VecKernels& vec_kernels_avx2();
const VecKernels& vec_kernels_avx512();

// The table for this CPU (GRAFT_SIMD may lower it).
const VecKernels& vec();

}  // namespace graft
