// GEMM lab: times the native GEMM (and variants of its block sizes) on the benchmark shapes without Node, and
// checks it against a naive double-precision product. Build and run:
//   bench/kernels/build_lab.sh && /tmp/graft_gemm_lab [kc mc nc]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>
#include <algorithm>
#include <string>

#include "../../native/kernels/gemm.h"
#include "../../native/threadpool.h"

using namespace graft;

static double check(int64_t m, int64_t n, int64_t k, bool ta, bool tb) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> a(m * k), b(k * n), c(m * n, 7.f);
  for (auto& x : a) x = u(rng);
  for (auto& x : b) x = u(rng);
  GemmParams p;
  p.m = m; p.n = n; p.k = k; p.trans_a = ta; p.trans_b = tb;
  gemm(a.data(), b.data(), c.data(), p);
  double worst = 0;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t q = 0; q < k; q++) s += double(ta ? a[q * m + i] : a[i * k + q]) * double(tb ? b[j * k + q] : b[q * n + j]);
      worst = std::max(worst, std::fabs(s - c[i * n + j]) / (1 + std::sqrt(double(k))));
    }
  return worst;
}

static double gflops(int64_t m, int64_t k, int64_t n, bool ta, bool tb, int reps) {
  std::vector<float> a(m * k, 0.5f), b(k * n, 0.25f), c(m * n);
  GemmParams p;
  p.m = m; p.n = n; p.k = k; p.trans_a = ta; p.trans_b = tb;
  gemm(a.data(), b.data(), c.data(), p);
  std::vector<double> t;
  for (int r = 0; r < reps; r++) {
    auto t0 = std::chrono::steady_clock::now();
    gemm(a.data(), b.data(), c.data(), p);
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return 2.0 * m * n * k / t[t.size() / 2] / 1e9;
}

static void noop_micro(int64_t, const float*, const float*, float*, int64_t, int, int, bool) {}

int main(int argc, char** argv) {
  GemmKernel variant = gemm_kernel();
  if (argc >= 2 && std::string(argv[1]) == "pack-only") {
    // The same driver with a micro-kernel that does nothing: what packing and loop overhead cost alone.
    variant.micro = noop_micro;
    gemm_force_kernel(&variant);
    argc = 1;
  }
  if (argc >= 4) {
    variant.kc = std::atoll(argv[1]);
    variant.mc = std::atoll(argv[2]);
    variant.nc = std::atoll(argv[3]);
    gemm_force_kernel(&variant);
  }
  std::printf("kernel %s kc=%lld mc=%lld nc=%lld threads=%d\n", variant.name, (long long)variant.kc, (long long)variant.mc,
              (long long)variant.nc, thread_count());
  const int shapes[][3] = {{1, 1, 1}, {7, 33, 5}, {33, 127, 257}, {257, 33, 127}, {100, 300, 70}};
  if (variant.micro != noop_micro)
  for (auto& s : shapes)
    for (int f = 0; f < 4; f++) {
      double e = check(s[0], s[2], s[1], f & 1, f & 2);
      if (e > 1e-5) std::printf("MISMATCH %dx%dx%d ta=%d tb=%d err=%g\n", s[0], s[1], s[2], f & 1, (f >> 1) & 1, e);
    }
  // the products of `npm run bench -- gemm`: forward NN, dA = dC·Bᵀ (NT), dB = Aᵀ·dC (TN)
  const int bench[][3] = {{2048, 768, 768}, {2048, 768, 3072}, {2048, 3072, 768}, {512, 128, 128}};
  for (auto& s : bench) {
    const int m = s[0], k = s[1], n = s[2];
    std::printf("%5dx%5dx%5d fwd %6.1f   dA %6.1f   dB %6.1f\n", m, k, n, gflops(m, k, n, false, false, 9),
                gflops(m, n, k, false, true, 9), gflops(k, m, n, true, false, 9));
  }
}
