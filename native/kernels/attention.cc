// Drivers of the fused attention kernels (attention.h): the SIMD level's table, and the split over the pool —
// the forward over (batch, head, block of queries), the backward over (batch, head), each task owning its rows
// of the outputs, so results do not depend on the thread count.
#include "attention.h"

#include <algorithm>
#include <vector>

#include "../cpu.h"
#include "../threadpool.h"

namespace graft {

namespace {

const AttentionKernels& kernels() {
  switch (simd_level()) {
    case SimdLevel::Avx512: return attention_kernels_avx512();
    case SimdLevel::Avx2: return attention_kernels_avx2();
    default: return attention_kernels_portable();
  }
}

}  // namespace

int64_t flash_forward_scratch(int64_t dim) { return dim * kFlashBlockK + kFlashBlockQ * dim + 2 * kFlashBlockQ + kFlashBlockK; }
int64_t flash_backward_scratch(int64_t dim) {
  return 2 * dim * kFlashBlockK + 2 * kFlashBlockK * dim + kFlashBlockK + 2 * kFlashBlockQ * kFlashBlockK;
}

void flash_attention(const float* q, const float* k, const float* v, FlashMasks m, float* out, float* lse,
                     const FlashAttentionParams& p) {
  const AttentionKernels& kt = kernels();
  const int64_t qblocks = (p.queries + kFlashBlockQ - 1) / kFlashBlockQ;
  const int64_t tasks = p.batch * p.heads * qblocks;
  if (tasks == 0) return;
  const int64_t work = p.batch * p.heads * p.queries * (p.keys + 1) * (p.dim + 1) * 2;
  const int nth = threads_for(work, kElementwiseGrain);
  const int64_t per = flash_forward_scratch(p.dim);
  std::vector<float> scratch(static_cast<size_t>(nth * per));
  parallel_run(nth, [&](int ith, int n) {
    int64_t t0, t1;
    split_range(tasks, ith, n, &t0, &t1);
    float* sc = scratch.data() + ith * per;
    for (int64_t t = t0; t < t1; t++) {
      const int64_t bh = t / qblocks, qb = t % qblocks;
      const int64_t q0 = qb * kFlashBlockQ, q1 = std::min(p.queries, q0 + kFlashBlockQ);
      kt.forward_rows(q, k, v, m, out, lse, p, bh / p.heads, bh % p.heads, q0, q1, sc);
    }
  });
}

void flash_attention_backward(const float* q, const float* k, const float* v, FlashMasks m, const float* out,
                              const float* lse, const float* dout, float* dq, float* dk, float* dv,
                              const FlashAttentionParams& p) {
  const AttentionKernels& kt = kernels();
  // one task per kv head (its query heads in turn), so no two tasks add into the same dK, dV rows
  const int64_t tasks = p.batch * p.kv_heads, rep = p.kv_heads > 0 ? p.heads / p.kv_heads : 0;
  const int64_t nk = p.batch * p.kv_heads * p.kv_rows * p.dim;
  for (int64_t i = 0; i < nk; i++) dk[i] = dv[i] = 0.0f;
  if (tasks == 0) return;
  const int64_t work = tasks * p.queries * (p.keys + 1) * (p.dim + 1) * 4;
  const int nth = threads_for(work, kElementwiseGrain);
  const int64_t per = flash_backward_scratch(p.dim);
  std::vector<float> scratch(static_cast<size_t>(nth * per));
  parallel_run(nth, [&](int ith, int n) {
    int64_t t0, t1;
    split_range(tasks, ith, n, &t0, &t1);
    float* sc = scratch.data() + ith * per;
    for (int64_t t = t0; t < t1; t++)
      for (int64_t r = 0; r < rep; r++)
        kt.backward_head(q, k, v, m, out, lse, dout, dq, dk, dv, p, t / p.kv_heads, (t % p.kv_heads) * rep + r, sc);
  });
}

}  // namespace graft
