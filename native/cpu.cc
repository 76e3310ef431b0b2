#include "cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define GRAFT_X86 1
#if defined(_MSC_VER)
#include <immintrin.h>
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace graft {

#if GRAFT_X86
static void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(_MSC_VER)
  int out[4];
  __cpuidex(out, static_cast<int>(leaf), static_cast<int>(sub));
  for (int i = 0; i < 4; i++) r[i] = static_cast<unsigned>(out[i]);
#else
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

// XCR0: which register files the OS saves. Read with the raw opcode so this file needs no -mxsave.
static unsigned long long xgetbv0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned eax, edx;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
#endif
}

static CpuFeatures detect() {
  CpuFeatures f;
  unsigned r[4];
  cpuid(0, 0, r);
  const unsigned max_leaf = r[0];
  if (max_leaf < 7) return f;
  cpuid(1, 0, r);
  const bool osxsave = (r[2] >> 27) & 1;
  const bool fma = (r[2] >> 12) & 1;
  const bool avx = (r[2] >> 28) & 1;
  if (!osxsave || !avx) return f;
  const unsigned long long xcr0 = xgetbv0();
  const bool ymm_saved = (xcr0 & 0x6) == 0x6;     // SSE + AVX state
  const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;   // + opmask, ZMM_Hi256, Hi16_ZMM
  const bool tile_saved = (xcr0 & 0x60000) == 0x60000;
  cpuid(7, 0, r);
  const unsigned ebx = r[1], edx = r[3];
  if (ymm_saved) {
    f.avx2 = (ebx >> 5) & 1;
    f.fma = fma;
  }
  if (ymm_saved && zmm_saved) {
    f.avx512f = (ebx >> 16) & 1;
    f.avx512dq = (ebx >> 17) & 1;
    f.avx512bw = (ebx >> 30) & 1;
    f.avx512vl = (ebx >> 31) & 1;
    cpuid(7, 1, r);
    f.avx512bf16 = f.avx512f && ((r[0] >> 5) & 1);
  }
  f.amx_bf16 = tile_saved && ((edx >> 22) & 1);
  return f;
}
#else
static CpuFeatures detect() { return CpuFeatures{}; }
#endif

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

SimdLevel simd_level_supported() {
  static const SimdLevel level = [] {
    const CpuFeatures& f = cpu_features();
    SimdLevel best = SimdLevel::Portable;
    if (f.avx2 && f.fma) best = SimdLevel::Avx2;
    if (best == SimdLevel::Avx2 && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl) best = SimdLevel::Avx512;
    return best;
  }();
  return level;
}

static SimdLevel env_cap() {
  const char* v = std::getenv("GRAFT_SIMD");
  if (v != nullptr && std::strcmp(v, "portable") == 0) return SimdLevel::Portable;
  if (v != nullptr && std::strcmp(v, "avx2") == 0) return SimdLevel::Avx2;
  return SimdLevel::Avx512;
}

static std::atomic<int> g_cap{static_cast<int>(env_cap())};

SimdLevel simd_level() {
  // Only ever lower the level: asking for more than the CPU has must not crash.
  const int cap = g_cap.load(std::memory_order_relaxed);
  const int best = static_cast<int>(simd_level_supported());
  return static_cast<SimdLevel>(cap < best ? cap : best);
}

SimdLevel set_simd_cap(SimdLevel cap) { return static_cast<SimdLevel>(g_cap.exchange(static_cast<int>(cap))); }

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Avx512: return "avx512";
    case SimdLevel::Avx2: return "avx2";
    default: return "portable";
  }
}

}  // namespace graft
