// Micro-kernel lab: register-tile shapes for the AVX-512 GEMM, timed on hot packed panels (A micro-panels from
// L2, B micro-panel from L1, C tiles accumulated) so only the inner kernel is measured. The winner moved into
// native/kernels/gemm_avx512.cc. Build and run:
//   g++ -O3 -std=c++17 -mavx512f -mfma bench/kernels/gemm_micro_lab.cc -o /tmp/graft_micro_lab && /tmp/graft_micro_lab
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

// MR rows × NV zmm columns; kPrefetchC touches the C tile before the k loop.
template <int MR, int NV, bool kPrefetchC, int kUnroll>
__attribute__((noinline)) void micro(long kc, const float* a, const float* b, float* c, long ldc) {
  __m512 acc[MR][NV];
  if (kPrefetchC)
    for (int i = 0; i < MR; i++)
      for (int v = 0; v < NV; v++) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + v * 16), _MM_HINT_T0);
#pragma GCC unroll 32
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
  for (long p0 = 0; p0 < kc; p0 += kUnroll)
#pragma GCC unroll 8
  for (long p = p0; p < p0 + kUnroll; p++) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) bv[v] = _mm512_load_ps(b + v * 16);
#pragma GCC unroll 32
    for (int i = 0; i < MR; i++) {
      const __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += MR;
    b += NV * 16;
  }
#pragma GCC unroll 32
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      float* ci = c + i * ldc + v * 16;
      _mm512_storeu_ps(ci, _mm512_add_ps(_mm512_loadu_ps(ci), acc[i][v]));
    }
}

template <int MR, int NV, bool kPrefetchC, int kUnroll>
void run(const char* name) {
  const long kc = 256, panels = 24, ldc = 1024 + 16;
  const int NR = NV * 16;
  std::vector<float> a(kc * MR * panels + 64, 1e-3f), b(kc * NR + 64, 1e-3f), c(MR * panels * ldc + 64, 0.f);
  float* ap = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(a.data()) + 63) & ~uintptr_t(63));
  float* bp = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(b.data()) + 63) & ~uintptr_t(63));
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    const long iters = 20000;
    auto t0 = std::chrono::steady_clock::now();
    for (long it = 0; it < iters; it++) {
      const long ir = it % panels;
      micro<MR, NV, kPrefetchC, kUnroll>(kc, ap + ir * kc * MR, bp, c.data() + ir * MR * ldc + (it / panels % 2) * 0, ldc);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * kc * MR * NR * iters / s / 1e9);
  }
  std::printf("%-28s %6.1f GFLOP/s\n", name, best);
}

int main() {
  for (int round = 0; round < 2; round++) {
    run<14, 2, false, 2>("14x32");
    run<14, 2, true, 2>("14x32 prefetch C");
    run<14, 2, true, 4>("14x32 prefetch C unroll 4");
    run<12, 2, true, 2>("12x32 prefetch C");
    run<8, 3, true, 2>("8x48 prefetch C");
    run<6, 4, true, 2>("6x64 prefetch C");
    run<28, 1, true, 2>("28x16 prefetch C");
  }
}
