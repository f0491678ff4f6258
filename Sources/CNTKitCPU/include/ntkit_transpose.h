// Blocked float32 transpose: dst[j*ldd + i] = src[i*lds + j] for i < rows,
// j < cols (src rows × cols, dst cols × rows; the regions must not overlap).
#pragma once
#include <stddef.h>

void ntk_transpose_f32(const float *src, size_t lds, float *dst, size_t ldd, size_t rows, size_t cols);
