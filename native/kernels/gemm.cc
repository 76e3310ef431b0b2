#include "gemm.h"

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

namespace graft {

// ---- portable micro-kernel and packer (the fallback, and the reference the SIMD ones are checked against)

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

// One growable 64-byte-aligned buffer per thread and role; pool threads live for the process, so these do too.
float* workspace(std::unique_ptr<float, AlignedFree>& buf, size_t& cap, size_t need) {
  if (need > cap) {
    const size_t bytes = ((need * sizeof(float) + 63) / 64) * 64;
    buf.reset(aligned_floats(bytes));
    if (!buf) std::abort();
    cap = bytes / sizeof(float);
  }
  return buf.get();
}

thread_local std::unique_ptr<float, AlignedFree> t_apack, t_bpack;
thread_local size_t t_apack_cap = 0, t_bpack_cap = 0;

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// One matrix as the driver sees it: element (i, p) of op(X) at x[i*rs + p*cs].
struct View {
  const float* x;
  int64_t rs, cs;
};

// C[m0:m1, n0:n1] (+)= op(A)[m0:m1, :] · op(B)[:, n0:n1] on the calling thread. bt is op(B) transposed (element
// (j, p)), so A and B panels pack with the same routine.
void gemm_rect(const GemmKernel& K, View a, View bt, float* c, int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
               int64_t k, bool accumulate) {
  const int64_t kc = K.kc, mc = K.mc, nc = K.nc;
  float* ap = workspace(t_apack, t_apack_cap, static_cast<size_t>(round_up(std::min(mc, m1 - m0), K.mr) * std::min(kc, k)));
  float* bp = workspace(t_bpack, t_bpack_cap, static_cast<size_t>(round_up(std::min(nc, n1 - n0), K.nr) * std::min(kc, k)));
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

// Below this many multiply-adds per thread, waking a worker costs more than it saves.
constexpr int64_t kGemmGrain = int64_t{1} << 19;

struct Grid {
  int tm, tn;
};

// Splits an m × n product over nth threads as a tm × tn grid of tile-aligned rectangles, choosing the
// factorization whose largest rectangle (in whole tiles, plus the packing each thread repeats) is smallest.
Grid choose_grid(const GemmKernel& K, int64_t m, int64_t n, int64_t k, int nth) {
  Grid best{nth, 1};
  double best_cost = -1;
  const int64_t mt = (m + K.mr - 1) / K.mr, nt = (n + K.nr - 1) / K.nr;
  for (int tm = 1; tm <= nth; tm++) {
    if (nth % tm != 0) continue;
    const int tn = nth / tm;
    const double rows = static_cast<double>((mt + tm - 1) / tm) * K.mr;
    const double cols = static_cast<double>((nt + tn - 1) / tn) * K.nr;
    // compute per thread, plus packing: A once per nc-wide block of columns, B once.
    const double col_blocks = std::ceil(cols / static_cast<double>(K.nc));
    const double cost = rows * cols * static_cast<double>(k) + 8.0 * static_cast<double>(k) * (rows * col_blocks + cols);
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best = {tm, tn};
    }
  }
  return best;
}

}  // namespace

void gemm(const float* a, const float* b, float* c, const GemmParams& p) {
  const int64_t m = p.m, n = p.n, k = p.k, batch = p.batch;
  if (batch <= 0 || m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!p.accumulate) std::memset(c, 0, sizeof(float) * static_cast<size_t>(batch * m * n));
    return;
  }
  const GemmKernel& K = gemm_kernel();
  const View av = p.trans_a ? View{a, 1, m} : View{a, k, 1};
  const View btv = p.trans_b ? View{b, k, 1} : View{b, 1, n};
  auto item = [&](int64_t bi) {
    return std::make_pair(View{av.x + bi * p.stride_a, av.rs, av.cs}, View{btv.x + bi * p.stride_b, btv.rs, btv.cs});
  };

  const int nth = threads_for(batch * m * n * k, kGemmGrain);
  if (nth == 1 || (batch >= nth && (batch % nth == 0 || batch >= 4 * nth))) {
    // Whole products per thread: no shared tiles, the batch splits evenly enough.
    parallel_run(nth, [&](int ith, int n_threads) {
      int64_t b0, b1;
      split_range(batch, ith, n_threads, &b0, &b1);
      for (int64_t bi = b0; bi < b1; bi++) {
        auto [ai, bti] = item(bi);
        gemm_rect(K, ai, bti, c + bi * m * n, n, 0, m, 0, n, k, p.accumulate);
      }
    });
    return;
  }
  const Grid g = choose_grid(K, m, n, k, nth);
  const int64_t mt = (m + K.mr - 1) / K.mr, nt = (n + K.nr - 1) / K.nr;
  for (int64_t bi = 0; bi < batch; bi++) {
    auto [ai, bti] = item(bi);
    float* ci = c + bi * m * n;
    parallel_run(nth, [&](int ith, int n_threads) {
      // A pool busy elsewhere runs this as one task: then it covers the whole product.
      const Grid gg = n_threads == nth ? g : Grid{1, 1};
      const int gi = ith / gg.tn, gj = ith % gg.tn;
      int64_t r0, r1, c0, c1;
      split_range(mt, gi, gg.tm, &r0, &r1);
      split_range(nt, gj, gg.tn, &c0, &c1);
      const int64_t m0 = r0 * K.mr, m1 = std::min(m, r1 * K.mr);
      const int64_t n0 = c0 * K.nr, n1 = std::min(n, c1 * K.nr);
      if (m0 < m1 && n0 < n1) gemm_rect(K, ai, bti, ci, n, m0, m1, n0, n1, k, p.accumulate);
    });
  }
}

}  // namespace graft
