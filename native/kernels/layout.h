// Strided copies: the one layout kernel behind transpose, slicing, concatenation, broadcasting and their
// gradients (which accumulate, possibly many source elements into one destination element).
#pragma once

#include <cstdint>

namespace graft {

// dst[to] (=|+=) src[from] for every index of shape; elements are 4 bytes, added as float or int32 when
// accumulating. Offsets and strides are in elements; strides may be 0 or negative.
void strided_copy(const void* src, int64_t src_offset, const int64_t* src_strides, void* dst, int64_t dst_offset,
                  const int64_t* dst_strides, const int64_t* shape, int nd, bool accumulate, bool is_int);

}  // namespace graft
