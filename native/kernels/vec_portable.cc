// The VecKernels table compiled for portable (flags in binding.gyp); see vec_impl.inc.
#define GRAFT_VEC_NS vec_portable
#define GRAFT_VEC_NAME "portable"
#define GRAFT_VEC_TABLE vec_table
#include "vec_impl.inc"

namespace graft {
const VecKernels& vec_kernels_portable() { return vec_portable::vec_table(); }
}  // namespace graft
