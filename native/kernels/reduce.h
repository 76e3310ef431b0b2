// Reductions over the middle axis of an [outer, dim, inner] view, and gathers/scatters along it.
#pragma once

#include <cstdint>

namespace graft {

enum class Reduce : int { Sum, Max, Min };

// Sums accumulate in double (as the reference does); max/min propagate NaN; dim == 0 gives 0 (sum) or NaN.
void reduce(Reduce op, const float* x, float* out, int64_t outer, int64_t dim, int64_t inner);
// Index of the first max (or min) along the axis; a NaN wins at its first position.
void arg_reduce(bool is_max, const float* x, int32_t* out, int64_t outer, int64_t dim, int64_t inner);
// out[o, i] = x[o, idx[o, i], i]; indices must be valid (see first_out_of_range).
void gather_axis(const float* x, const int32_t* idx, float* out, int64_t outer, int64_t dim, int64_t inner);
// dx[o, idx[o, i], i] += dy[o, i]
void scatter_add_axis(const float* dy, const int32_t* idx, float* dx, int64_t outer, int64_t dim, int64_t inner);

// Position of the first value outside [0, limit) among n indices, or -1. Kernels that take indices are called
// only after this check, so a bad index becomes an error message instead of a wild memory access.
int64_t first_out_of_range(const int32_t* idx, int64_t n, int64_t limit);

}  // namespace graft
