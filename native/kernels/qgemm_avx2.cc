// AVX2 int8 tile kernel (see qgemm.h). Compiled with -mavx2 in the AVX2 static library.
//
// Both operands are int16 in registers: the packed int8 weights are sign-extended on load (vpmovsxbw from memory,
// one 16-byte load = 8 columns × a depth pair), the activations were quantized straight to int16. vpmaddwd
// multiplies int16 pairs and adds each pair into an int32 lane: |a0·b0 + a1·b1| <= 2·127² = 32258, so it is
// exact, and the int32 accumulators are exact up to k ≈ 133,000. (vpmaddubsw would do twice the products per
// instruction but saturates its int16 pair sums for u8 × s8 operands; Zen 3 issues vpmaddwd at two per cycle,
// which the tile below keeps busy: 8 vpmaddwd per 2 loads + 4 broadcasts.)
//
// Tile: up to 4 rows × 16 columns = 8 ymm int32 accumulators, 2 ymm of weights, 1 broadcast and the products
// (6 rows spilled accumulators to the stack: vpmaddwd is not an accumulating instruction, each product needs a
// temporary); a 6-row tile of the driver runs as 4 + 2 rows.
#include <immintrin.h>

#include "qgemm.h"

namespace graft {
namespace {

inline __m256i pair_at(const int16_t* row, int64_t p) {
  int32_t v;
  __builtin_memcpy(&v, row + 2 * p, 4);
  return _mm256_set1_epi32(v);
}

inline void store2(int32_t* acc, __m256i lo, __m256i hi) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc), lo);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + 8), hi);
}

// Rows as named variables (an array of accumulators made GCC spill one to the stack on every iteration).
template <int M>
void tile_m(int64_t kpairs, const int16_t* a, int64_t lda, const int8_t* panel, int32_t* acc) {
  static_assert(M >= 1 && M <= 4, "tile rows");
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const int16_t* a0 = a;
  const int16_t* a1 = a + (M > 1 ? lda : 0);
  const int16_t* a2 = a + (M > 2 ? 2 * lda : 0);
  const int16_t* a3 = a + (M > 3 ? 3 * lda : 0);
  for (int64_t p = 0; p < kpairs; p++) {
    const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(panel + p * 32)));
    const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(panel + p * 32 + 16)));
    __m256i x = pair_at(a0, p);
    c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x, b0));
    c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x, b1));
    if (M > 1) {
      x = pair_at(a1, p);
      c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x, b0));
      c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x, b1));
    }
    if (M > 2) {
      x = pair_at(a2, p);
      c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x, b0));
      c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x, b1));
    }
    if (M > 3) {
      x = pair_at(a3, p);
      c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x, b0));
      c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x, b1));
    }
  }
  store2(acc, c00, c01);
  if (M > 1) store2(acc + kQgemmNr, c10, c11);
  if (M > 2) store2(acc + 2 * kQgemmNr, c20, c21);
  if (M > 3) store2(acc + 3 * kQgemmNr, c30, c31);
}

// 16 floats → 16 int16 of clamp(rne(x · inv), -127, 127): the portable formula (vroundps rounds half to even
// like the magic-number trick; max/min pass NaN the same way: a NaN becomes -127).
inline void quantize16(const float* x, __m256 inv, int16_t* q) {
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  __m256 v0 = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x), inv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 v1 = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8), inv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  v0 = _mm256_min_ps(_mm256_max_ps(v0, lo), hi);
  v1 = _mm256_min_ps(_mm256_max_ps(v1, lo), hi);
  const __m256i p = _mm256_packs_epi32(_mm256_cvtps_epi32(v0), _mm256_cvtps_epi32(v1));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), _mm256_permute4x64_epi64(p, 0xd8));
}

void quantize(const float* x, int16_t* q, float* scale, int64_t cols) {
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 vmax = _mm256_setzero_ps();
  int64_t c = 0;
  // max(|x|, m) keeps m when |x| is NaN, as std::max(m, |x|) does in the portable kernel
  for (; c + 8 <= cols; c += 8) vmax = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + c), absmask), vmax);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, vmax);
  float amax = 0.0f;
  for (int i = 0; i < 8; i++) amax = lanes[i] > amax ? lanes[i] : amax;
  for (; c < cols; c++) {
    const float a = x[c] < 0 ? -x[c] : x[c];
    amax = amax < a ? a : amax;
  }
  *scale = amax / 127.0f;
  const __m256 inv = _mm256_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
  c = 0;
  for (; c + 16 <= cols; c += 16) quantize16(x + c, inv, q + c);
  if (c < cols) {
    // the tail through the same vector code (a scalar tail could be contracted into an FMA and round differently)
    alignas(32) float tail[16] = {};
    alignas(32) int16_t out[16];
    for (int64_t i = c; i < cols; i++) tail[i - c] = x[i];
    quantize16(tail, inv, out);
    for (int64_t i = c; i < cols; i++) q[i] = out[i - c];
  }
}

void tile(int64_t kpairs, const int16_t* a, int64_t lda, const int8_t* panel, int32_t* acc, int m) {
  switch (m) {
    case 1: return tile_m<1>(kpairs, a, lda, panel, acc);
    case 2: return tile_m<2>(kpairs, a, lda, panel, acc);
    case 3: return tile_m<3>(kpairs, a, lda, panel, acc);
    case 4: return tile_m<4>(kpairs, a, lda, panel, acc);
    default:
      // 5 or 6 rows: two passes over the panel (it is in L1 by then) keep the accumulators in registers
      tile_m<4>(kpairs, a, lda, panel, acc);
      if (m == 5) return tile_m<1>(kpairs, a + 4 * lda, lda, panel, acc + 4 * kQgemmNr);
      return tile_m<2>(kpairs, a + 4 * lda, lda, panel, acc + 4 * kQgemmNr);
  }
}

}  // namespace

const QgemmKernel& qgemm_kernel_avx2() {
  static const QgemmKernel k{"avx2 4x16 vpmaddwd", tile, quantize};
  return k;
}

}  // namespace graft
