// AVX2 int8 tile kernel (see qgemm.h). Compiled with -mavx2 in the AVX2 static library.
//
// Both operands are int16 in registers: the packed int8 weights are sign-extended on load (vpmovsxbw from memory,
// one 16-byte load = 8 columns × a depth pair), the activations were quantized straight to int16. vpmaddwd
// multiplies int16 pairs and adds each pair into an int32 lane: |a0·b0 + a1·b1| <= 2·127² = 32258, so it is
// exact, and the int32 accumulators are exact up to k ≈ 133,000. (vpmaddubsw would do twice the products per
// instruction but saturates its int16 pair sums for u8 × s8 operands; Zen 3 issues vpmaddwd at two per cycle,
// which the tile below keeps busy: 12 vpmaddwd per 2 loads + 6 broadcasts.)
//
// Tile: up to 6 rows × 16 columns = 12 ymm int32 accumulators, 2 ymm of weights and 1 broadcast.
#include <immintrin.h>

#include "qgemm.h"

namespace graft {
namespace {

template <int M>
void tile_m(int64_t kpairs, const int16_t* a, int64_t lda, const int8_t* panel, int32_t* acc) {
  __m256i c0[M], c1[M];
  for (int i = 0; i < M; i++) c0[i] = c1[i] = _mm256_setzero_si256();
  const int32_t* ar[M];
  for (int i = 0; i < M; i++) ar[i] = reinterpret_cast<const int32_t*>(a + i * lda);
#pragma GCC unroll 2
  for (int64_t p = 0; p < kpairs; p++) {
    const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(panel + p * 32)));
    const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(panel + p * 32 + 16)));
#pragma GCC unroll 6
    for (int i = 0; i < M; i++) {
      int32_t pair;
      __builtin_memcpy(&pair, ar[i] + p, 4);
      const __m256i ai = _mm256_set1_epi32(pair);
      c0[i] = _mm256_add_epi32(c0[i], _mm256_madd_epi16(ai, b0));
      c1[i] = _mm256_add_epi32(c1[i], _mm256_madd_epi16(ai, b1));
    }
  }
  for (int i = 0; i < M; i++) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + i * kQgemmNr), c0[i]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + i * kQgemmNr + 8), c1[i]);
  }
}

void tile(int64_t kpairs, const int16_t* a, int64_t lda, const int8_t* panel, int32_t* acc, int m) {
  switch (m) {
    case 1: return tile_m<1>(kpairs, a, lda, panel, acc);
    case 2: return tile_m<2>(kpairs, a, lda, panel, acc);
    case 3: return tile_m<3>(kpairs, a, lda, panel, acc);
    case 4: return tile_m<4>(kpairs, a, lda, panel, acc);
    case 5: return tile_m<5>(kpairs, a, lda, panel, acc);
    default: return tile_m<6>(kpairs, a, lda, panel, acc);
  }
}

}  // namespace

const QgemmKernel& qgemm_kernel_avx2() {
  static const QgemmKernel k{"avx2 6x16 vpmaddwd", tile};
  return k;
}

}  // namespace graft
