// Stand-ins for the x86 SIMD kernels on other architectures: the tables exist (so the dispatcher links) but are
// the portable ones, and cpu.cc never reports an x86 SIMD level there, so they are never chosen for their name.
#include "attention.h"
#include "gemm.h"
#include "gemm_bf16.h"
#include "qgemm.h"
#include "vec.h"

namespace graft {
#if defined(GRAFT_ABSENT_AVX2)
const GemmKernel& gemm_kernel_avx2() { return gemm_kernel_portable(); }
const VecKernels& vec_kernels_avx2() { return vec_kernels_portable(); }
const AttentionKernels& attention_kernels_avx2() { return attention_kernels_portable(); }
const GemmBf16Kernel& gemm_bf16_kernel_avx2() { return gemm_bf16_kernel_portable(); }
const QgemmKernel& qgemm_kernel_avx2() { return qgemm_kernel_portable(); }
#endif
#if defined(GRAFT_ABSENT_AVX512)
const GemmKernel& gemm_kernel_avx512() { return gemm_kernel_portable(); }
const VecKernels& vec_kernels_avx512() { return vec_kernels_portable(); }
const AttentionKernels& attention_kernels_avx512() { return attention_kernels_portable(); }
#endif
}  // namespace graft
