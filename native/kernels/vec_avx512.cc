// The VecKernels table compiled for avx512 (flags in binding.gyp); see vec_impl.inc.
#define GRAFT_VEC_NS vec_avx512
#define GRAFT_VEC_NAME "avx512"
#define GRAFT_VEC_TABLE vec_table
#include "vec_impl.inc"

namespace graft {
const VecKernels& vec_kernels_avx512() { return vec_avx512::vec_table(); }
}  // namespace graft
