// Mixed-precision GEMM: C[b] (+)= bf16(op(A[b])) · bf16(op(B[b])) with fp32 accumulation and fp32 output, the
// product torch.autocast('cpu', dtype=torch.bfloat16) computes for a matmul (its inputs rounded to bfloat16).
//
// Each operand is converted ONCE per product (per batch item; once for all items when it is shared): fp32 →
// bfloat16 with round-to-nearest-even (NaN stays NaN, as torch rounds), straight into the micro-kernel's panel
// order (mr-row panels of op(A), nr-column panels of op(B), zero-padded, over all of k), which also absorbs the
// transpose flags. The packed operands are half the bytes of fp32 panels; the micro-kernels widen bf16 to fp32
// (a 16-bit shift) and accumulate with fp32 FMAs. On a CPU without bf16 arithmetic (AVX2, e.g. AMD Zen 3) this
// halves the operand traffic but does not raise the multiply rate. Threads share the packed operands and claim
// blocks of C (mc rows × nc columns) dynamically; small products run on the calling thread.
#pragma once

#include <cstdint>
#include <cstring>

#include "gemm.h"

namespace graft {

// Rounds an fp32 value to the nearest bfloat16 (ties to even), returned as its 16 bits.
inline uint16_t bf16_round(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN: keep it quiet
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

struct GemmBf16Kernel {
  const char* name;
  int mr, nr;          // register tile
  int64_t kc, mc, nc;  // cache blocks of one thread's unit of work (mc a multiple of mr, nc of nr)
  // c[0..m, 0..n] (+)= a_panel[kc][mr] · b_panel[kc][nr] in bf16 (panel rows mr and nr elements apart);
  // m <= mr, n <= nr. The kernel may read up to 2 bytes before a and after the end of either panel.
  void (*micro)(int64_t kc, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc, int m, int n, bool accumulate);
};

const GemmBf16Kernel& gemm_bf16_kernel_portable();
const GemmBf16Kernel& gemm_bf16_kernel_avx2();

// The kernel for the current SIMD level (simd_level(), so GRAFT_SIMD and set_simd_cap choose it too). AVX-512
// machines run the AVX2 kernel (no AVX512-BF16 / AMX path is built yet).
const GemmBf16Kernel& gemm_bf16_kernel();

// C (+)= bf16(op(A)) · bf16(op(B)) for every batch item; the same parameters as gemm().
void gemm_bf16(const float* a, const float* b, float* c, const GemmParams& p);

}  // namespace graft
