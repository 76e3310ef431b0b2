// The AttentionKernels table compiled for portable (flags in binding.gyp); see attention_impl.inc.
#include <algorithm>
#define GRAFT_ATTN_NS attn_portable
#define GRAFT_ATTN_NAME "portable"
#define GRAFT_ATTN_TABLE attn_table
#include "attention_impl.inc"

namespace graft {
const AttentionKernels& attention_kernels_portable() { return attn_portable::attn_table(); }
}  // namespace graft
