// The AttentionKernels table compiled for avx512 (flags in binding.gyp); see attention_impl.inc.
#include <algorithm>
#define GRAFT_ATTN_NS attn_avx512
#define GRAFT_ATTN_NAME "avx512"
#define GRAFT_ATTN_TABLE attn_table
#include "attention_impl.inc"

namespace graft {
const AttentionKernels& attention_kernels_avx512() { return attn_avx512::attn_table(); }
}  // namespace graft
