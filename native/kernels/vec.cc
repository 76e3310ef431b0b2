#include "vec.h"

#include "../cpu.h"

namespace graft {

const VecKernels& vec() {
  switch (simd_level()) {
    case SimdLevel::Avx512: return vec_kernels_avx512();
    case SimdLevel::Avx2: return vec_kernels_avx2();
    default: return vec_kernels_portable();
  }
}

}  // namespace graft
