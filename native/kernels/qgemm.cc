// Int8 linear layer: quantization, packing, the threaded driver and the portable tile kernel (see qgemm.h).
#include "qgemm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../cpu.h"
#include "../threadpool.h"

namespace graft {
namespace {

// Multiply-adds per thread below which a product stays on fewer threads.
constexpr int64_t kQgemmGrain = int64_t{1} << 16;
// Rows of activations kept in L2 while the panels of a thread's columns pass over them.
constexpr int64_t kQgemmMc = 8 * kQgemmMr;

// Round half to even for |v| <= 2^22 (the default rounding mode, without a libm call).
inline float rne(float v) {
  const float magic = 12582912.0f;  // 1.5 · 2^23
  return (v + magic) - magic;
}

// scale and inverse scale of a row with largest magnitude amax.
inline void row_scale(float amax, float* scale, float* inv) {
  *scale = amax / 127.0f;
  *inv = amax > 0.0f ? 127.0f / amax : 0.0f;
}

template <typename Q>
void quantize_row(const float* x, Q* q, float* scale, int64_t cols) {
  float amax = 0.0f;
  for (int64_t c = 0; c < cols; c++) amax = std::max(amax, std::fabs(x[c]));
  float inv;
  row_scale(amax, scale, &inv);
  for (int64_t c = 0; c < cols; c++) {
    const float r = std::min(127.0f, std::max(-127.0f, rne(x[c] * inv)));
    q[c] = static_cast<Q>(r);
  }
}

void quantize_portable(const float* x, int16_t* q, float* scale, int64_t cols) { quantize_row(x, q, scale, cols); }

void tile_portable(int64_t kpairs, const int16_t* a, int64_t lda, const int8_t* panel, int32_t* acc, int m) {
  for (int i = 0; i < m; i++) {
    int32_t s[kQgemmNr] = {};
    const int16_t* ai = a + i * lda;
    for (int64_t p = 0; p < kpairs; p++) {
      const int32_t a0 = ai[2 * p], a1 = ai[2 * p + 1];
      const int8_t* b = panel + p * 32;
      for (int c = 0; c < kQgemmNr; c++) {
        const int8_t* bc = b + (c / 8) * 16 + (c % 8) * 2;
        s[c] += a0 * bc[0] + a1 * bc[1];
      }
    }
    for (int c = 0; c < kQgemmNr; c++) acc[i * kQgemmNr + c] = s[c];
  }
}

}  // namespace

void quantize_rows(const float* x, int8_t* q, float* scales, int64_t rows, int64_t cols) {
  const int nth = threads_for(rows * cols, kElementwiseGrain);
  parallel_run(nth, [&](int ith, int n) {
    int64_t r0, r1;
    split_range(rows, ith, n, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) quantize_row(x + r * cols, q + r * cols, scales + r, cols);
  });
}

void qgemm_pack(const int8_t* qw, int8_t* dst, int64_t n, int64_t k) {
  const int64_t kp = (k + 1) / 2, panels = (n + 15) / 16;
  for (int64_t jp = 0; jp < panels; jp++)
    for (int64_t p = 0; p < kp; p++)
      for (int h = 0; h < 2; h++)
        for (int c = 0; c < 8; c++)
          for (int e = 0; e < 2; e++) {
            const int64_t j = jp * 16 + h * 8 + c, kk = 2 * p + e;
            dst[((jp * kp + p) * 2 + h) * 16 + c * 2 + e] = (j < n && kk < k) ? qw[j * k + kk] : 0;
          }
}

const QgemmKernel& qgemm_kernel_portable() {
  static const QgemmKernel k{"portable 6x16 int16-pairs", tile_portable, quantize_portable};
  return k;
}

const QgemmKernel& qgemm_kernel() {
  return simd_level() >= SimdLevel::Avx2 ? qgemm_kernel_avx2() : qgemm_kernel_portable();
}

void qlinear(const float* x, const int8_t* packed, const float* w_scales, const float* bias, float* out, int64_t m,
             int64_t n, int64_t k) {
  if (m == 0 || n == 0) return;
  const int64_t kp = (k + 1) / 2, lda = 2 * kp, panels = (n + 15) / 16;
  const QgemmKernel& K = qgemm_kernel();
  // Activations quantized once per call, into int16 (the kernels' operand width), depth padded with a zero; the
  // calling thread's buffers are kept between calls.
  thread_local std::vector<int16_t> aq;
  thread_local std::vector<float> sa;
  if (aq.size() < static_cast<size_t>(m * lda)) aq.resize(static_cast<size_t>(m * lda));
  if (sa.size() < static_cast<size_t>(m)) sa.resize(static_cast<size_t>(m));
  // pointers, not the thread_local names: inside the tasks those would name each worker's own (empty) buffers
  int16_t* const qa = aq.data();
  float* const qs = sa.data();
  {
    const int nth = threads_for(m * k, kElementwiseGrain);
    parallel_run(nth, [&](int ith, int nt) {
      int64_t r0, r1;
      split_range(m, ith, nt, &r0, &r1);
      for (int64_t r = r0; r < r1; r++) {
        K.quantize(x + r * k, qa + r * lda, qs + r, k);
        if (lda > k) qa[r * lda + k] = 0;
      }
    });
  }
  const int nth = static_cast<int>(std::min<int64_t>(panels, threads_for(m * n * k, kQgemmGrain)));
  parallel_run(nth, [&](int ith, int nt) {
    int64_t jp0, jp1;
    split_range(panels, ith, nt, &jp0, &jp1);
    alignas(64) int32_t acc[kQgemmMr * kQgemmNr];
    for (int64_t i0 = 0; i0 < m; i0 += kQgemmMc) {
      const int64_t i1 = std::min(m, i0 + kQgemmMc);
      for (int64_t jp = jp0; jp < jp1; jp++) {
        const int8_t* panel = packed + jp * kp * 32;
        const int64_t j0 = jp * kQgemmNr;
        const int nj = static_cast<int>(std::min<int64_t>(kQgemmNr, n - j0));
        for (int64_t i = i0; i < i1; i += kQgemmMr) {
          const int mt = static_cast<int>(std::min<int64_t>(kQgemmMr, i1 - i));
          K.tile(kp, qa + i * lda, lda, panel, acc, mt);
          // Dequantize: float(acc) · (sa · sw) + bias, each step rounded to fp32 (no FMA on the baseline ISA).
          for (int ii = 0; ii < mt; ii++) {
            float* o = out + (i + ii) * n + j0;
            const float s = qs[i + ii];
            for (int c = 0; c < nj; c++) {
              const float v = static_cast<float>(acc[ii * kQgemmNr + c]) * (s * w_scales[j0 + c]);
              o[c] = bias ? v + bias[j0 + c] : v;
            }
          }
        }
      }
    }
  });
}

}  // namespace graft
