// Pieces shared by the GEMM driver (gemm.cc) and its multi-threaded schedule (gemm_parallel.cc).
#pragma once

#include <cstddef>
#include <cstdint>

#include "gemm.h"

namespace graft {
namespace gemm_detail {

// One operand as the driver sees it: element (i, p) of op(X) at x[i*rs + p*cs]. B is always seen transposed
// (element (j, p) of op(B)ᵀ), so A and B panels pack with the same routine.
struct View {
  const float* x;
  int64_t rs, cs;
};

inline int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// The calling thread's 64-byte-aligned scratch buffers (grown on demand, kept for the thread's life): one for
// packed A blocks, one for packed B blocks, one for an operand shared with the other threads of a product.
enum class Scratch { A, B, Shared };
float* scratch(Scratch which, size_t floats);

// C[m0:m1, n0:n1] (+)= op(A)[m0:m1, :] · op(B)[:, n0:n1] on the calling thread, packing its own blocks.
void gemm_rect(const GemmKernel& K, View a, View bt, float* c, int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t k,
               bool accumulate);

// One product on up to nth threads: one operand packed once into a shared buffer, the other's blocks handed out
// dynamically (see gemm_parallel.cc).
void gemm_parallel(const GemmKernel& K, View a, View bt, float* c, int64_t ldc, int64_t m, int64_t n, int64_t k, bool accumulate, int nth);

}  // namespace gemm_detail
}  // namespace graft
