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

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's headers pass _mm512_undefined_ps() as the unused pass-through of unmasked shuffles, and then warn
// that it may be uninitialized; it is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "gemm.h"

namespace graft {
namespace {

constexpr int kNr = 32;

template <int MR>
void micro(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n, bool accumulate) {
  // C's tile is touched only after the k loop; ask for its lines now so they arrive while the FMAs run.
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    if (i < m) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
    }
  }
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

// In-register transpose of a 16 × 16 block: r[i] holds row i on entry, column i on return.
inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // per 128-bit lane L, u[4j + q] now gathers column 4L + q of rows 4j .. 4j + 3
  for (int j = 0; j < 4; j++) {
    const __m512d a = _mm512_castps_pd(t[4 * j]), b = _mm512_castps_pd(t[4 * j + 2]);
    const __m512d c = _mm512_castps_pd(t[4 * j + 1]), d = _mm512_castps_pd(t[4 * j + 3]);
    u[4 * j] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
    u[4 * j + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    u[4 * j + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
    u[4 * j + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
  }
  // gather lane L of the four row groups: column 4L + q
  for (int q = 0; q < 4; q++) {
    const __m512 v88 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x88), vdd = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xdd);
    const __m512 w88 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x88), wdd = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xdd);
    r[q] = _mm512_shuffle_f32x4(v88, w88, 0x88);
    r[8 + q] = _mm512_shuffle_f32x4(v88, w88, 0xdd);
    r[4 + q] = _mm512_shuffle_f32x4(vdd, wdd, 0x88);
    r[12 + q] = _mm512_shuffle_f32x4(vdd, wdd, 0xdd);
  }
}

inline __mmask16 first_lanes(int n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1); }

// Packs `r` (<= 16) rows that are contiguous along depth into lanes [lane0, lane0 + 16) of panel steps of width
// mr: 16 depth steps at a time through a 16 × 16 transpose, the depth tail element by element.
void pack_rows_transposed(const float* src, int64_t rs, int r, int64_t depth, int mr, int lane0, float* dst) {
  const __mmask16 store = first_lanes(mr - lane0);
  int64_t p = 0;
  for (; p + 16 <= depth; p += 16) {
    __m512 v[16];
    for (int i = 0; i < 16; i++) v[i] = i < r ? _mm512_loadu_ps(src + i * rs + p) : _mm512_setzero_ps();
    transpose16(v);
    for (int q = 0; q < 16; q++) _mm512_mask_storeu_ps(dst + (p + q) * mr + lane0, store, v[q]);
  }
  for (; p < depth; p++) {
    float* d = dst + p * mr + lane0;
    const int w = mr - lane0 < 16 ? mr - lane0 : 16;
    for (int i = 0; i < w; i++) d[i] = i < r ? src[i * rs + p] : 0.0f;
  }
}

// The packer of GemmKernel (gemm.h) with SIMD paths for both layouts: rows contiguous along depth (A as stored
// for op(A) = A, B for op(B) = Bᵀ: a transpose) and depth-major (each step's mr values contiguous: a copy).
void pack(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t depth, int mr, float* dst) {
  if (mr > 32 || (cs != 1 && rs != 1)) {
    gemm_pack_portable(src, rs, cs, rows, depth, mr, dst);
    return;
  }
  for (int64_t i0 = 0; i0 < rows; i0 += mr) {
    const int r = static_cast<int>(rows - i0 < mr ? rows - i0 : mr);
    const float* s = src + i0 * rs;
    float* panel = dst + i0 * depth;
    if (cs == 1 && rs != 1) {
      for (int lane0 = 0; lane0 < mr; lane0 += 16) {
        const int rr = r - lane0 < 0 ? 0 : (r - lane0 < 16 ? r - lane0 : 16);
        pack_rows_transposed(s + lane0 * rs, rs, rr, depth, mr, lane0, panel);
      }
    } else {
      // rs == 1: step p's values are s[p*cs .. p*cs + r)
      for (int64_t p = 0; p < depth; p++) {
        const float* sp = s + p * cs;
        float* d = panel + p * mr;
        for (int lane0 = 0; lane0 < mr; lane0 += 16) {
          const int valid = r - lane0 < 0 ? 0 : r - lane0;
          _mm512_mask_storeu_ps(d + lane0, first_lanes(mr - lane0), _mm512_maskz_loadu_ps(first_lanes(valid), sp + lane0));
        }
      }
    }
  }
}

}  // namespace

const GemmKernel& gemm_kernel_avx512() {
  static const GemmKernel k{"avx512 14x32", kMr, kNr, 256, 14 * 24, 4096, micro<kMr>, pack};
  return k;
}

}  // namespace graft
