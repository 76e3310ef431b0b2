// Int8 inference GEMM: dynamic quantization of a linear layer, as ONNX Runtime's and PyTorch's dynamic
// quantization do it, with the arithmetic chosen so that every ISA path gives bit-identical results.
//
//   weights     per output channel (row j of W [n, k]), symmetric int8: sw[j] = max|W[j,:]| / 127,
//               qw = rne(W · (127 / max|W[j,:]|)) in [-127, 127]; quantized once, PACKED once (qgemm_pack).
//   activations per row (row i of X [m, k]), symmetric int8 computed on the fly, the same formula: sa[i], qa.
//               Symmetric because it keeps the full 8 bits of signed activations (LayerNorm outputs) and needs no
//               zero-point correction; -128 is never produced, so |qa·qw| <= 127².
//   accumulate  acc[i, j] = Σ_p qa[i,p] · qw[j,p] in int32, EXACT: the AVX2 kernel sign-extends both operands to
//               int16 and multiplies with vpmaddwd (pairs of int16 products summed into int32 lanes: at most
//               2·127² = 32258 per pair, no saturation anywhere; vpmaddubsw's int16 saturation is never used).
//   dequantize  out[i, j] = float(acc) · (sa[i] · sw[j]) + bias[j], each operation rounded to fp32, in that
//               order, in plain C++ shared by all paths (no FMA contraction: the file is built for the baseline
//               ISA), so portable, AVX2 and the TypeScript reference agree bit for bit.
//
// rne = round half to even (the default rounding mode), computed as (v + 1.5·2^23) − 1.5·2^23 (exact for
// |v| <= 2^22). A row of zeros has scale 0 and quantizes to zeros.
//
// Packed weights (ISA-independent, so the packing is done once at load and every kernel reads the same layout):
// columns in panels of 16 (n rounded up to 16), depth in pairs (k rounded up to 2), zero-padded:
//   packed[((jp · k2/2 + p) · 2 + h) · 16 + c · 2 + e] = qw[jp·16 + h·8 + c, 2p + e]
// so one 16-byte load, sign-extended to 16 int16, is 8 columns × one depth pair: exactly vpmaddwd's operand.
//
// Blocking: threads split the column panels; each walks blocks of up to 48 rows (kept in L2) and, inside a block,
// multiplies 6-row tiles by one 16-column panel over the whole depth (the panel, k·16 bytes, stays in L1 for the
// rows of the block). A product of at most 4 rows (batch-1 decode) is one tile per panel: the GEMV case, which
// reads every weight byte exactly once, streaming at memory bandwidth.
#pragma once

#include <cstdint>

namespace graft {

constexpr int kQgemmNr = 16;  // columns per packed panel
constexpr int kQgemmMr = 6;   // rows per register tile

inline int64_t qgemm_packed_length(int64_t n, int64_t k) { return (n + 15) / 16 * 16 * ((k + 1) / 2 * 2); }

// Per-row symmetric int8: q[r, :] and scales[r] for x [rows, cols] (the formula above).
void quantize_rows(const float* x, int8_t* q, float* scales, int64_t rows, int64_t cols);

// Packs qw [n, k] into the panel layout above (dst holds qgemm_packed_length(n, k) bytes).
void qgemm_pack(const int8_t* qw, int8_t* dst, int64_t n, int64_t k);

// out[m, n] = dequantize(quantize_rows(x) · packedᵀ) + bias (bias may be null).
void qlinear(const float* x, const int8_t* packed, const float* w_scales, const float* bias, float* out, int64_t m,
             int64_t n, int64_t k);

// One ISA's tile kernel: acc[i][0..16) = Σ_p a[i·lda + 2p .. +1] · panel pair p, for i < m (m <= kQgemmMr);
// a holds int16 quantized activations, k2/2 = kpairs pairs per row.
// quantize: one activation row to int16 (values in [-127, 127]) and its scale, exactly as quantize_rows does.
struct QgemmKernel {
  const char* name;
  void (*tile)(int64_t kpairs, const int16_t* a, int64_t lda, const int8_t* panel, int32_t* acc, int m);
  void (*quantize)(const float* x, int16_t* q, float* scale, int64_t cols);
};

const QgemmKernel& qgemm_kernel_portable();
const QgemmKernel& qgemm_kernel_avx2();
// The kernel the dispatcher picked (follows simd_level(): AVX2 where the CPU has it; there is no AVX-512 int8
// kernel yet, so an AVX-512 machine runs the AVX2 one).
const QgemmKernel& qgemm_kernel();

}  // namespace graft
