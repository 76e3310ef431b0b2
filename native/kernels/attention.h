// Fused (flash-style) attention: softmax(scale·Q·Kᵀ, masked)·V for Q [batch, heads, queries, dim] and K, V
// [batch, heads, kv_rows, dim] (the first `keys` rows of each head used: a preallocated KV cache is read in place),
// one block of queries at a time against blocks of keys with an online softmax, so the queries×keys matrix never
// exists. The forward saves only each row's logsumexp; the backward recomputes the probabilities block by block
// (FlashAttention-2's algorithm) and writes dQ, dK, dV.
//
// Masks, as attention_softmax (nn.h) applies them: keep [batch, keys] (null: all kept) hides padding keys; causal
// hides key k from query q when k > q + (keys - queries); segments [batch, keys] i32 (null: none; needs queries <=
// keys) hides key k unless segments[b, k] == segments[b, q + keys - queries]. A query that sees no key gets a zero
// output and logsumexp -inf.
#pragma once

#include <cstdint>

namespace graft {

struct FlashAttentionParams {
  int64_t batch, heads, queries, keys, dim;
  int64_t kv_rows;   // rows per (batch, kv head) in K, V, dK, dV (>= keys)
  int64_t kv_heads;  // heads of K and V (divides heads): query head h reads kv head h / (heads / kv_heads)
  float scale;
  bool causal;
};

struct FlashMasks {
  const float* keep;        // [batch, keys] or null
  const int32_t* segments;  // [batch, keys] or null
};

// out [batch, heads, queries, dim], lse [batch, heads, queries] (natural-log logsumexp of the scaled, visible scores).
void flash_attention(const float* q, const float* k, const float* v, FlashMasks m, float* out, float* lse,
                     const FlashAttentionParams& p);
// dq, dk, dv overwritten (dk, dv rows past `keys` set to 0); a kv head's gradients sum over the query heads it serves.
void flash_attention_backward(const float* q, const float* k, const float* v, FlashMasks m, const float* out,
                              const float* lse, const float* dout, float* dq, float* dk, float* dv,
                              const FlashAttentionParams& p);

// The per-task bodies, compiled once per ISA (attention_impl.inc) and picked at run time.
struct AttentionKernels {
  const char* name;
  // queries [q0, q1) of head (b, h): out and lse rows
  void (*forward_rows)(const float* q, const float* k, const float* v, FlashMasks m, float* out, float* lse,
                       const FlashAttentionParams& p, int64_t b, int64_t h, int64_t q0, int64_t q1, float* scratch);
  // every query and key of query head (b, h): its dq; dk, dv of its kv head accumulate (zeroed by the driver)
  void (*backward_head)(const float* q, const float* k, const float* v, FlashMasks m, const float* out, const float* lse,
                        const float* dout, float* dq, float* dk, float* dv, const FlashAttentionParams& p, int64_t b,
                        int64_t h, float* scratch);
};

// Floats of scratch one forward_rows / backward_head call needs.
int64_t flash_forward_scratch(int64_t dim);
int64_t flash_backward_scratch(int64_t dim);

constexpr int64_t kFlashBlockQ = 32;
constexpr int64_t kFlashBlockK = 64;

const AttentionKernels& attention_kernels_portable();
const AttentionKernels& attention_kernels_avx2();
const AttentionKernels& attention_kernels_avx512();

}  // namespace graft
