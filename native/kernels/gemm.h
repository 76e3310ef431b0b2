// Single-precision GEMM: C[b] (+)= op(A[b]) · op(B[b]) for b in [0, batch), row-major, C dense [m, n].
//
// How it is fast (BLIS's structure, as in Goto & van de Geijn, "Anatomy of high-performance matrix
// multiplication"): the product is cut into blocks that fit the caches: kc columns of op(A) and rows of op(B) at a
// time, an mc × kc block of op(A) that stays in L2, and a kc × nc block of op(B) behind it. Each block is first
// PACKED into a contiguous buffer in exactly the order the micro-kernel reads it (mr-row panels of A, nr-column
// panels of B, zero-padded at the edges), which is also where the transpose flags are absorbed: packing reads the
// stored layout, so no transpose is ever materialized. The micro-kernel then multiplies an mr × kc panel by a
// kc × nr panel into an mr × nr tile of C held entirely in SIMD registers (14 × 32 with AVX-512, 6 × 16 with
// AVX2), writing only the valid corner of edge tiles. The micro-kernel and packers are chosen at run time from
// the CPU's features (gemm_avx512.cc, whose packer transposes 16 × 16 blocks in registers; gemm_avx2.cc; and a
// portable one in gemm.cc).
//
// Threads split C into a grid of rectangles (or split the batch), each thread packing its own blocks; small
// products run on the calling thread.
#pragma once

#include <cstdint>

namespace graft {

struct GemmParams {
  int64_t batch = 1;
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false;  // A stored [k, m] instead of [m, k]
  bool trans_b = false;  // B stored [n, k] instead of [k, n]
  int64_t stride_a = 0;  // elements between batch items of A (0: one A for all)
  int64_t stride_b = 0;
  bool accumulate = false;  // C += A·B instead of C = A·B
};

void gemm(const float* a, const float* b, float* c, const GemmParams& p);

// The micro-kernel and packers of one ISA, with the cache-block sizes tuned for it.
struct GemmKernel {
  const char* name;
  int mr, nr;          // register tile
  int64_t kc, mc, nc;  // cache blocks (mc a multiple of mr, nc of nr)
  // c[0..m, 0..n] (+)= a_panel[kc][mr] · b_panel[kc][nr]; m <= mr, n <= nr; ldc = row stride of c.
  void (*micro)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n, bool accumulate);
  // Packs rows [0, rows) × depth [0, depth) of a matrix whose element (i, p) lives at src[i*rs + p*cs] into
  // panels of `mr` rows: dst[panel][p][ii], zero-padded to a whole panel. Used for A (rows = m) and for B seen as
  // its transpose (rows = n, panels of nr).
  void (*pack)(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t depth, int mr, float* dst);
};

const GemmKernel& gemm_kernel_portable();
const GemmKernel& gemm_kernel_avx2();
const GemmKernel& gemm_kernel_avx512();

// The kernel the dispatcher picked for this CPU.
const GemmKernel& gemm_kernel();

// Overrides the dispatcher's choice (benchmarks and tests compare the ISAs); nullptr restores it.
void gemm_force_kernel(const GemmKernel* k);

// The portable packer (ISA files fall back to it for layouts they do not specialize).
void gemm_pack_portable(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t depth, int mr, float* dst);

}  // namespace graft
