#include "ntkit_cpu.h"
// No fused multiply-add contraction: these loops give the same bits on every
// clone (set here rather than by per-target flags, so no unsafeFlags).
#pragma clang fp contract(off)

#include "ntkit_clones.h"

#define DEFINE_RELU(T, SUFFIX)                                                        \
  NTK_CLONES void ntk_relu_##SUFFIX(T *restrict y, const T *restrict z, size_t count) { \
    /* NaN passes through (z != z), so an overflow is never hidden as 0. */                \
    for (size_t k = 0; k < count; k++) y[k] = z[k] > 0 || z[k] != z[k] ? z[k] : 0;      \
  }

#define DEFINE_RELU_BACKWARD(T, SUFFIX)                                                      \
  NTK_CLONES void ntk_relu_backward_##SUFFIX(T *restrict g, const T *restrict z, size_t n,     \
                                             size_t m, size_t width) {                         \
    for (size_t i = 0; i < n; i++) {                                                           \
      const T *zr = z + i * width;                                                             \
      for (size_t a = 0; a < m; a++) {                                                         \
        T *gr = g + (i * m + a) * width;                                                       \
        for (size_t k = 0; k < width; k++) gr[k] = zr[k] > 0 ? gr[k] : 0;                      \
      }                                                                                        \
    }                                                                                          \
  }

#define DEFINE_HADAMARD(T, SUFFIX)                                                                \
  NTK_CLONES void ntk_hadamard_accumulate_##SUFFIX(T *restrict out, size_t ldo, const T *restrict ka, \
                                                   const T *restrict kg, size_t ni, size_t nj, T c) {  \
    for (size_t i = 0; i < ni; i++) {                                                               \
      T *o = out + i * ldo;                                                                         \
      const T *ra = ka + i * nj, *rg = kg + i * nj;                                                 \
      for (size_t j = 0; j < nj; j++) o[j] += (ra[j] + c) * rg[j];                                  \
    }                                                                                               \
  }

DEFINE_RELU(float, f32)
DEFINE_RELU(double, f64)
DEFINE_RELU_BACKWARD(float, f32)
DEFINE_RELU_BACKWARD(double, f64)
DEFINE_HADAMARD(float, f32)
DEFINE_HADAMARD(double, f64)
