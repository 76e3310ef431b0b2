// The AttentionKernels table compiled for avx2 (flags in binding.gyp); see attention_impl.inc.
#include <algorithm>
#define GRAFT_ATTN_NS attn_avx2
#define GRAFT_ATTN_NAME "avx2"
#define GRAFT_ATTN_TABLE attn_table
#include "attention_impl.inc"

namespace graft {
const AttentionKernels& attention_kernels_avx2() { return attn_avx2::attn_table(); }
}  // namespace graft
