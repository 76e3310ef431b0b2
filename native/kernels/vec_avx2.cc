// The VecKernels table compiled for avx2 (flags in binding.gyp); see vec_impl.inc.
#define GRAFT_VEC_NS vec_avx2
#define GRAFT_VEC_NAME "avx2"
#define GRAFT_VEC_TABLE vec_table
#include "vec_impl.inc"

namespace graft {
const VecKernels& vec_kernels_avx2() { return vec_avx2::vec_table(); }
}  // namespace graft
