// The bf16 GEMM driver, its fp32 → bf16 packer and its portable micro-kernel (see gemm_bf16.h).
#include "gemm_bf16.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#if defined(_WIN32)
#include <malloc.h>
#endif

#include "../cpu.h"
#include "../threadpool.h"

namespace graft {

namespace {

inline float widen(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

constexpr int kPortableMr = 4;
constexpr int kPortableNr = 16;

// A 4 × 16 tile in plain loops the compiler vectorizes for the baseline ISA.
void micro_portable(int64_t kc, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc, int m, int n, bool accumulate) {
  float acc[kPortableMr][kPortableNr] = {};
  for (int64_t p = 0; p < kc; p++) {
    float bv[kPortableNr];
    for (int j = 0; j < kPortableNr; j++) bv[j] = widen(b[p * kPortableNr + j]);
    for (int i = 0; i < kPortableMr; i++) {
      const float av = widen(a[p * kPortableMr + i]);
      for (int j = 0; j < kPortableNr; j++) acc[i][j] += av * bv[j];
    }
  }
  for (int i = 0; i < m; i++) {
    float* ci = c + i * ldc;
    if (accumulate) for (int j = 0; j < n; j++) ci[j] += acc[i][j];
    else for (int j = 0; j < n; j++) ci[j] = acc[i][j];
  }
}

// One operand as the driver sees it: element (i, p) at x[i*rs + p*cs] (B is seen transposed, as in gemm.cc).
struct View {
  const float* x;
  int64_t rs, cs;
};

inline int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// Packs panels [p0, p1) of `rows` rows × k of a view into dst: panel q holds rows [q*width, q*width + width) as
// dst[q*width*k + p*width + ii], rounded to bf16, zero-padded past `rows`.
void pack_panels(View v, int64_t rows, int64_t k, int width, int64_t p0, int64_t p1, uint16_t* dst) {
  for (int64_t q = p0; q < p1; q++) {
    const int64_t r0 = q * width;
    const int r = static_cast<int>(std::min<int64_t>(width, rows - r0));
    uint16_t* panel = dst + q * width * k;
    const float* s = v.x + r0 * v.rs;
    if (v.rs == 1) {
      for (int64_t p = 0; p < k; p++) {
        const float* sp = s + p * v.cs;
        uint16_t* d = panel + p * width;
        int i = 0;
        for (; i < r; i++) d[i] = bf16_round(sp[i]);
        for (; i < width; i++) d[i] = 0;
      }
    } else {
      for (int i = 0; i < r; i++) {
        const float* si = s + i * v.rs;
        for (int64_t p = 0; p < k; p++) panel[p * width + i] = bf16_round(si[p * v.cs]);
      }
      for (int i = r; i < width; i++)
        for (int64_t p = 0; p < k; p++) panel[p * width + i] = 0;
    }
  }
}

struct AlignedFree {
  void operator()(uint16_t* p) const {
#if defined(_WIN32)
    _aligned_free(p);
#else
    std::free(p);
#endif
  }
};

struct Buffer {
  std::unique_ptr<uint16_t, AlignedFree> data;
  size_t cap = 0;
};

// Per thread, kept for the thread's life: 0/1 the A/B of the products this thread runs alone, 2/3 the A/B of a
// product shared with the pool. 32 elements of padding on both sides (micro-kernels may read just outside a panel).
thread_local Buffer t_buf[4];
constexpr size_t kPad = 32;

uint16_t* buffer(int which, size_t elems) {
  Buffer& b = t_buf[which];
  const size_t need = elems + 2 * kPad;
  if (need > b.cap) {
    const size_t bytes = (need * sizeof(uint16_t) + 63) / 64 * 64;
#if defined(_WIN32)
    b.data.reset(static_cast<uint16_t*>(_aligned_malloc(bytes, 64)));
#else
    b.data.reset(static_cast<uint16_t*>(std::aligned_alloc(64, bytes)));
#endif
    if (!b.data) std::abort();
    b.cap = bytes / sizeof(uint16_t);
    std::memset(b.data.get(), 0, bytes);
  }
  return b.data.get() + kPad;
}

// Below this many multiply-adds per thread, waking a worker costs more than it saves (as gemm.cc).
constexpr int64_t kGrain = int64_t{1} << 19;

struct Shape {
  int64_t m, n, k;
  bool accumulate;
};

int64_t units_of(const GemmBf16Kernel& K, const Shape& s) {
  return ((s.m + K.mc - 1) / K.mc) * ((s.n + K.nc - 1) / K.nc);
}

// Unit u: the mc × nc block of C it names, over all of k, from the packed operands.
void run_unit(const GemmBf16Kernel& K, const Shape& s, const uint16_t* ap, const uint16_t* bp, float* c, int64_t u) {
  const int64_t col_blocks = (s.n + K.nc - 1) / K.nc;
  const int64_t ic = (u / col_blocks) * K.mc, jc = (u % col_blocks) * K.nc;
  const int64_t mb = std::min(K.mc, s.m - ic), nb = std::min(K.nc, s.n - jc);
  for (int64_t pc = 0; pc < s.k; pc += K.kc) {
    const int64_t kb = std::min(K.kc, s.k - pc);
    const bool add = s.accumulate || pc > 0;
    for (int64_t jr = jc; jr < jc + nb; jr += K.nr) {
      const int nn = static_cast<int>(std::min<int64_t>(K.nr, s.n - jr));
      const uint16_t* bpanel = bp + jr * s.k + pc * K.nr;  // panel jr/nr starts at (jr/nr)*nr*k
      for (int64_t ir = ic; ir < ic + mb; ir += K.mr) {
        const int mm = static_cast<int>(std::min<int64_t>(K.mr, s.m - ir));
        K.micro(kb, ap + ir * s.k + pc * K.mr, bpanel, c + ir * s.n + jr, s.n, mm, nn, add);
      }
    }
  }
}

// Packs whichever of op(A) (into *ap) and op(B)ᵀ (into *bp) is given, on nth threads, claiming panels.
void pack_parallel(const GemmBf16Kernel& K, const Shape& s, const View* a, uint16_t* ap, const View* bt, uint16_t* bp, int nth) {
  const int64_t pa = a ? (s.m + K.mr - 1) / K.mr : 0, pb = bt ? (s.n + K.nr - 1) / K.nr : 0;
  const int64_t total = pa + pb;
  if (total == 0) return;
  if (nth <= 1) {
    if (a) pack_panels(*a, s.m, s.k, K.mr, 0, pa, ap);
    if (bt) pack_panels(*bt, s.n, s.k, K.nr, 0, pb, bp);
    return;
  }
  std::atomic<int64_t> next{0};
  const int64_t chunk = std::max<int64_t>(1, total / (8 * nth));
  parallel_run(nth, [&](int, int) {
    for (int64_t q = next.fetch_add(chunk, std::memory_order_relaxed); q < total; q = next.fetch_add(chunk, std::memory_order_relaxed)) {
      const int64_t e = std::min(total, q + chunk);
      if (q < pa) pack_panels(*a, s.m, s.k, K.mr, q, std::min(e, pa), ap);
      if (e > pa) pack_panels(*bt, s.n, s.k, K.nr, std::max<int64_t>(q, pa) - pa, e - pa, bp);
    }
  });
}

}  // namespace

const GemmBf16Kernel& gemm_bf16_kernel_portable() {
  static const GemmBf16Kernel k{"bf16 portable 4x16", kPortableMr, kPortableNr, 256, 128, 1024, micro_portable};
  return k;
}

const GemmBf16Kernel& gemm_bf16_kernel() {
  return simd_level() == SimdLevel::Portable ? gemm_bf16_kernel_portable() : gemm_bf16_kernel_avx2();
}

void gemm_bf16(const float* a, const float* b, float* c, const GemmParams& p) {
  const int64_t m = p.m, n = p.n, k = p.k, batch = p.batch;
  if (batch <= 0 || m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!p.accumulate) std::memset(c, 0, sizeof(float) * static_cast<size_t>(batch * m * n));
    return;
  }
  const GemmBf16Kernel& K = gemm_bf16_kernel();
  const Shape s{m, n, k, p.accumulate};
  const View av = p.trans_a ? View{a, 1, m} : View{a, k, 1};
  const View btv = p.trans_b ? View{b, k, 1} : View{b, 1, n};
  const size_t a_elems = static_cast<size_t>(round_up(m, K.mr) * k), b_elems = static_cast<size_t>(round_up(n, K.nr) * k);
  const int nth = threads_for(batch * m * n * k, kGrain);
  // an operand shared by every item (stride 0) is packed once, on the calling thread's shared buffers
  const bool share_a = p.stride_a == 0 && batch > 1, share_b = p.stride_b == 0 && batch > 1;
  uint16_t* sa = buffer(2, a_elems);
  uint16_t* sb = buffer(3, b_elems);
  pack_parallel(K, s, share_a ? &av : nullptr, sa, share_b ? &btv : nullptr, sb, nth);
  const int64_t units = units_of(K, s);

  if (nth == 1 || batch >= nth) {
    // whole products per thread, handed out one at a time
    std::atomic<int64_t> next{0};
    parallel_run(static_cast<int>(std::min<int64_t>(nth, batch)), [&](int, int) {
      for (int64_t bi = next.fetch_add(1, std::memory_order_relaxed); bi < batch; bi = next.fetch_add(1, std::memory_order_relaxed)) {
        const uint16_t* ap = sa;
        const uint16_t* bp = sb;
        if (!share_a) {
          uint16_t* own = buffer(0, a_elems);
          pack_panels(View{av.x + bi * p.stride_a, av.rs, av.cs}, m, k, K.mr, 0, (m + K.mr - 1) / K.mr, own);
          ap = own;
        }
        if (!share_b) {
          uint16_t* own = buffer(1, b_elems);
          pack_panels(View{btv.x + bi * p.stride_b, btv.rs, btv.cs}, n, k, K.nr, 0, (n + K.nr - 1) / K.nr, own);
          bp = own;
        }
        for (int64_t u = 0; u < units; u++) run_unit(K, s, ap, bp, c + bi * m * n, u);
      }
    });
    return;
  }
  for (int64_t bi = 0; bi < batch; bi++) {
    const View ai{av.x + bi * p.stride_a, av.rs, av.cs}, bti{btv.x + bi * p.stride_b, btv.rs, btv.cs};
    pack_parallel(K, s, share_a ? nullptr : &ai, sa, share_b ? nullptr : &bti, sb, nth);
    float* ci = c + bi * m * n;
    std::atomic<int64_t> next{0};
    parallel_run(static_cast<int>(std::min<int64_t>(nth, units)), [&](int, int) {
      for (int64_t u = next.fetch_add(1, std::memory_order_relaxed); u < units; u = next.fetch_add(1, std::memory_order_relaxed))
        run_unit(K, s, sa, sb, ci, u);
    });
  }
}

}  // namespace graft
