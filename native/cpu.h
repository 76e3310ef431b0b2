// CPU feature detection, done once at load, so the addon can pick SIMD kernels at run time.
//
// The shipped build never uses -march=native: the portable code is compiled for the baseline ISA, the AVX2 and
// AVX-512 kernels live in their own files compiled with their own flags, and only the level detected here decides
// which of them runs. A level is usable only if the CPU has the instructions AND the OS saves the wider registers
// on context switches (XCR0, read with xgetbv).
#pragma once

namespace graft {

enum class SimdLevel { Portable = 0, Avx2 = 1, Avx512 = 2 };

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512bf16 = false;
  bool amx_bf16 = false;
};

// What the hardware and OS support (cached after the first call).
const CpuFeatures& cpu_features();

// The level kernels run at: the best one supported here, lowered by GRAFT_SIMD=portable|avx2 or by
// set_simd_cap (tests use both to run the fallbacks on a machine that has AVX-512).
SimdLevel simd_level();

// The best level this machine supports (ignoring caps).
SimdLevel simd_level_supported();

// Caps the level at `cap` (never raises it above what the CPU supports); returns the previous cap.
SimdLevel set_simd_cap(SimdLevel cap);

const char* simd_level_name(SimdLevel level);

}  // namespace graft
