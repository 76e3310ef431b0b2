// AVX2 + FMA GEMM micro-kernel (the Haswell-to-Zen path). Compiled with -mavx2 -mfma in its own static library.
//
// Register tile: MR = 6 rows × NR = 16 columns = 12 ymm accumulators, 2 ymm of B and 1 broadcast: 15 of the 16
// registers, 12 FMAs per 2 loads + 6 broadcasts (the tile BLIS uses on Haswell).
#include <immintrin.h>

#include "gemm.h"

namespace graft {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

void micro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n, bool accumulate) {
  __m256 c0[kMr], c1[kMr];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; i++) c0[i] = c1[i] = _mm256_setzero_ps();
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 8
    for (int i = 0; i < kMr; i++) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
    a += kMr;
    b += kNr;
  }
  if (m == kMr && n == kNr) {
#pragma GCC unroll 8
    for (int i = 0; i < kMr; i++) {
      float* ci = c + i * ldc;
      if (accumulate) {
        c0[i] = _mm256_add_ps(_mm256_loadu_ps(ci), c0[i]);
        c1[i] = _mm256_add_ps(_mm256_loadu_ps(ci + 8), c1[i]);
      }
      _mm256_storeu_ps(ci, c0[i]);
      _mm256_storeu_ps(ci + 8, c1[i]);
    }
    return;
  }
  // Edge tile: spill to a small buffer and copy the valid corner.
  alignas(32) float tile[kMr][kNr];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; i++) {
    _mm256_store_ps(tile[i], c0[i]);
    _mm256_store_ps(tile[i] + 8, c1[i]);
  }
  for (int i = 0; i < m; i++) {
    float* ci = c + i * ldc;
    if (accumulate) for (int j = 0; j < n; j++) ci[j] += tile[i][j];
    else for (int j = 0; j < n; j++) ci[j] = tile[i][j];
  }
}

}  // namespace

const GemmKernel& gemm_kernel_avx2() {
  static const GemmKernel k{"avx2 6x16", kMr, kNr, 256, 6 * 24, 4096, micro, gemm_pack_portable};
  return k;
}

}  // namespace graft
