// Blocked float32 transpose (see include/ntkit_transpose.h).
//
// Layout: src is rows × cols with row stride lds; dst is cols × rows with row
// stride ldd; dst[j*ldd + i] = src[i*lds + j]. 16 × 16 blocks: each block
// reads 16 row segments and writes 16 row segments of one cache line.
#include "ntkit_transpose.h"

void ntk_transpose_f32(const float *src, size_t lds, float *dst, size_t ldd, size_t rows, size_t cols) {
  enum { B = 16 };
  for (size_t i0 = 0; i0 < rows; i0 += B) {
    size_t i1 = i0 + B < rows ? i0 + B : rows;
    for (size_t j0 = 0; j0 < cols; j0 += B) {
      size_t j1 = j0 + B < cols ? j0 + B : cols;
      for (size_t j = j0; j < j1; j++) {
        float *d = dst + j * ldd;
        for (size_t i = i0; i < i1; i++) d[i] = src[i * lds + j];
      }
    }
  }
}
