#include "gemm.h"
#include "gemm_internal.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#if defined(_WIN32)
#include <malloc.h>
#endif

#include "../cpu.h"
#include "../threadpool.h"
#include "vec.h"

namespace graft {

// ---- portable micro-kernel and packer (for CPUs without AVX2, and the packer the AVX2 kernel uses)

namespace {

constexpr int kPortableMr = 4;
constexpr int kPortableNr = 16;

// A 4 × 16 tile in plain loops the compiler vectorizes for the baseline ISA (SSE2 on x86-64, NEON on arm64).
void micro_portable(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int m, int n, bool accumulate) {
  float acc[kPortableMr][kPortableNr] = {};
  for (int64_t p = 0; p < kc; p++) {
    const float* bp = b + p * kPortableNr;
    const float* ap = a + p * kPortableMr;
    for (int i = 0; i < kPortableMr; i++) {
      const float av = ap[i];
      for (int j = 0; j < kPortableNr; j++) acc[i][j] += av * bp[j];
    }
  }
  for (int i = 0; i < m; i++) {
    float* ci = c + i * ldc;
    if (accumulate) for (int j = 0; j < n; j++) ci[j] += acc[i][j];
    else for (int j = 0; j < n; j++) ci[j] = acc[i][j];
  }
}

}  // namespace

void gemm_pack_portable(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t depth, int mr, float* dst) {
  for (int64_t i0 = 0; i0 < rows; i0 += mr) {
    const int r = static_cast<int>(std::min<int64_t>(mr, rows - i0));
    float* panel = dst + i0 * depth;  // panels are mr × depth, i0 a multiple of mr
    const float* s = src + i0 * rs;
    if (rs == 1) {
      // each depth step reads r consecutive values
      for (int64_t p = 0; p < depth; p++) {
        const float* sp = s + p * cs;
        float* d = panel + p * mr;
        int i = 0;
        for (; i < r; i++) d[i] = sp[i];
        for (; i < mr; i++) d[i] = 0.0f;
      }
    } else {
      // rows are contiguous along depth (cs == 1 in practice): walk each row and scatter with stride mr
      for (int i = 0; i < r; i++) {
        const float* si = s + i * rs;
        for (int64_t p = 0; p < depth; p++) panel[p * mr + i] = si[p * cs];
      }
      for (int i = r; i < mr; i++)
        for (int64_t p = 0; p < depth; p++) panel[p * mr + i] = 0.0f;
    }
  }
}

const GemmKernel& gemm_kernel_portable() {
  static const GemmKernel k{"portable 4x16", kPortableMr, kPortableNr, 256, 128, 2048, micro_portable, gemm_pack_portable};
  return k;
}

// ---- dispatch

static std::atomic<const GemmKernel*> g_forced{nullptr};

const GemmKernel& gemm_kernel() {
  const GemmKernel* forced = g_forced.load(std::memory_order_relaxed);
  if (forced != nullptr) return *forced;
  switch (simd_level()) {
    case SimdLevel::Avx512: return gemm_kernel_avx512();
    case SimdLevel::Avx2: return gemm_kernel_avx2();
    default: return gemm_kernel_portable();
  }
}

void gemm_force_kernel(const GemmKernel* k) { g_forced.store(k, std::memory_order_relaxed); }

// ---- the blocked driver

namespace gemm_detail {

namespace {

float* aligned_floats(size_t bytes) {
#if defined(_WIN32)
  return static_cast<float*>(_aligned_malloc(bytes, 64));
#else
  return static_cast<float*>(std::aligned_alloc(64, bytes));
#endif
}

struct AlignedFree {
  void operator()(float* p) const {
#if defined(_WIN32)
    _aligned_free(p);
#else
    std::free(p);
#endif
  }
};

struct Buffer {
  std::unique_ptr<float, AlignedFree> data;
  size_t cap = 0;
};

// Pool threads live for the process, so their buffers do too: no allocation (and no page faults) per call.
thread_local Buffer t_scratch[3];

}  // namespace

float* scratch(Scratch which, size_t floats) {
  Buffer& b = t_scratch[static_cast<int>(which)];
  if (floats > b.cap) {
    const size_t bytes = ((floats * sizeof(float) + 63) / 64) * 64;
    b.data.reset(aligned_floats(bytes));
    if (!b.data) std::abort();
    b.cap = bytes / sizeof(float);
  }
  return b.data.get();
}

void gemm_rect(const GemmKernel& K, View a, View bt, float* c, int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t k,
               bool accumulate) {
  const int64_t kc = K.kc, mc = K.mc, nc = K.nc;
  float* ap = scratch(Scratch::A, static_cast<size_t>(round_up(std::min(mc, m1 - m0), K.mr) * std::min(kc, k)));
  float* bp = scratch(Scratch::B, static_cast<size_t>(round_up(std::min(nc, n1 - n0), K.nr) * std::min(kc, k)));
  for (int64_t jc = n0; jc < n1; jc += nc) {
    const int64_t nb = std::min(nc, n1 - jc);
    for (int64_t pc = 0; pc < k; pc += kc) {
      const int64_t kb = std::min(kc, k - pc);
      const bool add = accumulate || pc > 0;
      K.pack(bt.x + jc * bt.rs + pc * bt.cs, bt.rs, bt.cs, nb, kb, K.nr, bp);
      for (int64_t ic = m0; ic < m1; ic += mc) {
        const int64_t mb = std::min(mc, m1 - ic);
        K.pack(a.x + ic * a.rs + pc * a.cs, a.rs, a.cs, mb, kb, K.mr, ap);
        for (int64_t jr = 0; jr < nb; jr += K.nr) {
          const int n = static_cast<int>(std::min<int64_t>(K.nr, nb - jr));
          const float* bpanel = bp + jr * kb;
          float* cj = c + ic * ldc + jc + jr;
          for (int64_t ir = 0; ir < mb; ir += K.mr) {
            const int m = static_cast<int>(std::min<int64_t>(K.mr, mb - ir));
            K.micro(kb, ap + ir * kb, bpanel, cj + ir * ldc, ldc, m, n, add);
          }
        }
      }
    }
  }
}

}  // namespace gemm_detail


// Below this many multiply-adds per thread, waking a worker costs more than it saves.
static constexpr int64_t kGemmGrain = int64_t{1} << 19;

// ---- the matrix-vector path
//
// A product with a few rows of A (a decoder's step: one token per sequence against a weight matrix) does too little
// arithmetic per element of B to pay for packing B: the blocked path would copy all of B into panels, then use one
// row of a 14-row register tile. Here B is read once, where it is stored: with op(B) = Bᵀ (a weight stored
// [out, in], as Linear keeps it) each element of C is a dot product of two contiguous rows; otherwise each row of
// B, scaled by one element of A, is added into a strip of C's row. The threads claim blocks of C's columns.
static constexpr int64_t kGemvMaxRows = 4;

static void gemv(const float* a, const float* b, float* c, const GemmParams& p) {
  const int64_t m = p.m, n = p.n, k = p.k;
  const VecKernels& V = vec();
  // columns of C per unit of work: 64 rows of a transposed B, or a 512-wide strip that stays in L1
  const int64_t block = p.trans_b ? 64 : 512;
  const int64_t blocks = (n + block - 1) / block, units = p.batch * blocks;
  const int nth = static_cast<int>(std::min<int64_t>(units, threads_for(p.batch * m * n * k, kGemmGrain)));
  std::atomic<int64_t> next{0};
  parallel_run(nth, [&](int, int) {
    for (int64_t u = next.fetch_add(1, std::memory_order_relaxed); u < units; u = next.fetch_add(1, std::memory_order_relaxed)) {
      const int64_t bi = u / blocks, j0 = (u % blocks) * block, j1 = std::min(n, j0 + block);
      const float* ai = a + bi * p.stride_a;  // rows of A contiguous: m == 1 or A not transposed
      const float* bb = b + bi * p.stride_b;
      float* ci = c + bi * m * n;
      if (p.trans_b) {
        V.dot_rows(ai, k, m, bb, k, ci, n, j0, j1, k, p.accumulate);
        continue;
      }
      for (int64_t i = 0; i < m; i++) {
        float* y = ci + i * n + j0;
        if (!p.accumulate) std::memset(y, 0, sizeof(float) * static_cast<size_t>(j1 - j0));
        for (int64_t q = 0; q < k; q++) V.axpy(bb + q * n + j0, y, j1 - j0, ai[i * k + q]);
      }
    }
  });
}

void gemm(const float* a, const float* b, float* c, const GemmParams& p) {
  const int64_t m = p.m, n = p.n, k = p.k, batch = p.batch;
  if (batch <= 0 || m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!p.accumulate) std::memset(c, 0, sizeof(float) * static_cast<size_t>(batch * m * n));
    return;
  }
  if (m <= kGemvMaxRows && (m == 1 || !p.trans_a)) {
    gemv(a, b, c, p);
    return;
  }
  const GemmKernel& K = gemm_kernel();
  using gemm_detail::View;
  const View av = p.trans_a ? View{a, 1, m} : View{a, k, 1};
  const View btv = p.trans_b ? View{b, k, 1} : View{b, 1, n};
  auto item = [&](int64_t bi) {
    return std::make_pair(View{av.x + bi * p.stride_a, av.rs, av.cs}, View{btv.x + bi * p.stride_b, btv.rs, btv.cs});
  };

  const int nth = threads_for(batch * m * n * k, kGemmGrain);
  if (nth == 1 || (batch >= nth && (batch % nth == 0 || batch >= 4 * nth))) {
    // Whole products per thread, handed out one at a time: no shared tiles, and a thread that is slow (or
    // descheduled by a busy machine) simply takes fewer.
    std::atomic<int64_t> next{0};
    parallel_run(nth, [&](int, int) {
      for (int64_t bi = next.fetch_add(1, std::memory_order_relaxed); bi < batch; bi = next.fetch_add(1, std::memory_order_relaxed)) {
        auto [ai, bti] = item(bi);
        gemm_detail::gemm_rect(K, ai, bti, c + bi * m * n, n, 0, m, 0, n, k, p.accumulate);
      }
    });
    return;
  }
  for (int64_t bi = 0; bi < batch; bi++) {
    auto [ai, bti] = item(bi);
    gemm_detail::gemm_parallel(K, ai, bti, c + bi * m * n, n, m, n, k, p.accumulate, nth);
  }
}

}  // namespace graft
