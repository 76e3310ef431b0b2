// Elementwise kernels and memory helpers: threaded drivers over the vec table (vec.h).
#pragma once

#include <cstdint>

#include "vec.h"

namespace graft {

void fill(float* out, int64_t n, float value);
void axpy(const float* x, float* y, int64_t n, float alpha);
void affine(const float* x, float* out, int64_t n, float alpha, float beta);
// Σ x² over count buffers, in double.
double sum_squares(const float* const* xs, const int64_t* lengths, int count);

void unary(Unary op, const float* x, float* out, int64_t n, float param);
void unary_backward(Unary op, const float* x, const float* y, const float* dy, float* dx, int64_t n, float param);

// out (dense over shape) = a op b, with element strides per operand (0 on broadcast axes).
void binary(Binary op, const float* a, const float* b, float* out, const int64_t* shape, int nd, const int64_t* a_strides,
            const int64_t* b_strides);
void where(const float* cond, const float* a, const float* b, float* out, const int64_t* shape, int nd, const int64_t* c_strides,
           const int64_t* a_strides, const int64_t* b_strides);

}  // namespace graft
