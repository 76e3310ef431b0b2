// AVX2 + FMA micro-kernel of the bf16 GEMM (gemm_bf16.h). Compiled with -mavx2 -mfma in its own static library.
//
// AVX2 has no bf16 arithmetic: each bf16 is widened to fp32 in registers (a bf16 is the high half of an fp32) and
// multiplied with fp32 FMAs, so the multiply rate is fp32's; what bf16 saves is half the bytes of packed operands.
// Tile 6 × 16 as the fp32 kernel (12 accumulators). Widening without shuffles: one 32-byte load of a B row holds
// 16 bf16 as 8 pairs; `pair & 0xffff0000` is the odd column as fp32 and `pair << 16` the even one, so the
// accumulators hold even and odd columns and are interleaved back once, at the store. An A value is broadcast as
// the 32 bits ending at it (the element before it in the low half) and masked the same way.
#include <immintrin.h>

#include <cstring>

#include "gemm_bf16.h"

namespace graft {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

inline __m256 broadcast_bf16(const uint16_t* x, __m256i hi_mask) {
  int32_t pair;
  std::memcpy(&pair, x - 1, 4);  // x[-1] in the low half, x[0] in the high half
  return _mm256_castsi256_ps(_mm256_and_si256(_mm256_set1_epi32(pair), hi_mask));
}

void micro(int64_t kc, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc, int m, int n, bool accumulate) {
  const __m256i hi_mask = _mm256_set1_epi32(static_cast<int32_t>(0xffff0000u));
  __m256 ce[kMr], co[kMr];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; i++) ce[i] = co[i] = _mm256_setzero_ps();
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; p++) {
    const __m256i pairs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256 be = _mm256_castsi256_ps(_mm256_slli_epi32(pairs, 16));
    const __m256 bo = _mm256_castsi256_ps(_mm256_and_si256(pairs, hi_mask));
#pragma GCC unroll 8
    for (int i = 0; i < kMr; i++) {
      const __m256 ai = broadcast_bf16(a + i, hi_mask);
      ce[i] = _mm256_fmadd_ps(ai, be, ce[i]);
      co[i] = _mm256_fmadd_ps(ai, bo, co[i]);
    }
    a += kMr;
    b += kNr;
  }
  // back to column order: unpack gives columns 0-3 | 8-11 and 4-7 | 12-15, the lane permutes put them in place
  __m256 r0[kMr], r1[kMr];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; i++) {
    const __m256 lo = _mm256_unpacklo_ps(ce[i], co[i]), hi = _mm256_unpackhi_ps(ce[i], co[i]);
    r0[i] = _mm256_permute2f128_ps(lo, hi, 0x20);
    r1[i] = _mm256_permute2f128_ps(lo, hi, 0x31);
  }
  if (m == kMr && n == kNr) {
#pragma GCC unroll 8
    for (int i = 0; i < kMr; i++) {
      float* ci = c + i * ldc;
      if (accumulate) {
        r0[i] = _mm256_add_ps(_mm256_loadu_ps(ci), r0[i]);
        r1[i] = _mm256_add_ps(_mm256_loadu_ps(ci + 8), r1[i]);
      }
      _mm256_storeu_ps(ci, r0[i]);
      _mm256_storeu_ps(ci + 8, r1[i]);
    }
    return;
  }
  alignas(32) float tile[kMr][kNr];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; i++) {
    _mm256_store_ps(tile[i], r0[i]);
    _mm256_store_ps(tile[i] + 8, r1[i]);
  }
  for (int i = 0; i < m; i++) {
    float* ci = c + i * ldc;
    if (accumulate) for (int j = 0; j < n; j++) ci[j] += tile[i][j];
    else for (int j = 0; j < n; j++) ci[j] = tile[i][j];
  }
}

}  // namespace

const GemmBf16Kernel& gemm_bf16_kernel_avx2() {
  static const GemmBf16Kernel k{"bf16 avx2 6x16", kMr, kNr, 256, 6 * 24, 512, micro};
  return k;
}

}  // namespace graft
