// AVX-512 GEMM micro-kernel and packer. Compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma (its own
// static library); called only when cpu.cc found AVX-512, so the rest of the addon stays baseline x86-64.
//
// Register tile: MR = 14 rows × NR = 32 columns of C = 28 zmm accumulators. Per step of k the kernel loads two zmm
// of the packed B panel (32 consecutive columns) and broadcasts 14 values of the packed A panel, each feeding two
// FMAs: 28 FMAs against 2 loads + 14 broadcasts, which keeps both FMA ports of a Skylake-or-later core busy while
// the loads stay under the 2-3 per cycle the core can issue. kc = 256 keeps the 32 KiB B micro-panel in L1 while
// successive A micro-panels stream from L2 (the mc × kc block of A, ~200 KiB, stays in L2).
#include <immintrin.h>

#include <algorithm>

#include "gemm.h"

namespace graft {
namespace {

constexpr int kNr = 32;

template <int MR>
void micro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n, bool accumulate) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
    a += MR;
    b += kNr;
  }
  if (m == MR && n == kNr) {
    if (accumulate) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++) {
        float* ci = c + i * ldc;
        _mm512_storeu_ps(ci, _mm512_add_ps(_mm512_loadu_ps(ci), c0[i]));
        _mm512_storeu_ps(ci + 16, _mm512_add_ps(_mm512_loadu_ps(ci + 16), c1[i]));
      }
    } else {
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++) {
        _mm512_storeu_ps(c + i * ldc, c0[i]);
        _mm512_storeu_ps(c + i * ldc + 16, c1[i]);
      }
    }
    return;
  }
  // Edge tile: masked columns, only the first m rows.
  const __mmask16 k0 = n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1);
  const __mmask16 k1 = n >= 32 ? __mmask16(0xffff) : n > 16 ? __mmask16((1u << (n - 16)) - 1) : __mmask16(0);
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    if (i < m) {
      float* ci = c + i * ldc;
      __m512 v0 = c0[i], v1 = c1[i];
      if (accumulate) {
        v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(k0, ci), v0);
        v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(k1, ci + 16), v1);
      }
      _mm512_mask_storeu_ps(ci, k0, v0);
      _mm512_mask_storeu_ps(ci + 16, k1, v1);
    }
  }
}

constexpr int kMr = 14;

}  // namespace

const GemmKernel& gemm_kernel_avx512() {
  static const GemmKernel k{"avx512 14x32", kMr, kNr, 256, 14 * 24, 4096, micro<kMr>, gemm_pack_portable};
  return k;
}

}  // namespace graft
