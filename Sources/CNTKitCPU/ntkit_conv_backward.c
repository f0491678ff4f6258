// Backward-pass loops of conv nets (see include/ntkit_conv_backward.h for
// shapes and layouts).
//
// col2im and the average-pool backward are gathers: each input pixel sums the
// output positions that cover it, in ascending (oy, ox) order, straight into
// its channels; nothing is zeroed first and every pixel is written once.
// The channel loop is the contiguous inner loop that clang vectorises.
#include "ntkit_conv_backward.h"
#include <string.h>

// No fused multiply-add contraction: the same bits on every clone.
#pragma clang fp contract(off)

#include "ntkit_clones.h"

// First and last output index o (o·stride − pad ≤ y ≤ o·stride − pad + k − 1, 0 ≤ o < out) covering y.
static inline void covering(int y, int pad, int k, int stride, int out, int *lo, int *hi) {
  int top = y + pad;                  // o·stride ≤ top
  int first = top - k + 1;            // o·stride ≥ first
  int l = first <= 0 ? 0 : (first + stride - 1) / stride;
  int h = top < 0 ? -1 : top / stride;
  if (h > out - 1) h = out - 1;
  *lo = l;
  *hi = h;
}

#define DEFINE_COL2IM(T, SUFFIX)                                                                          \
  NTK_CLONES void ntk_col2im_##SUFFIX(const T *restrict cols, T *restrict image, size_t n, int in_h,          \
                                      int in_w, int in_c, int kh, int kw, int sh, int sw, int pad_top,       \
                                      int pad_left, int out_h, int out_w) {                                   \
    const size_t patch = (size_t)kh * kw * in_c, positions = (size_t)out_h * out_w;                          \
    for (size_t s = 0; s < n; s++) {                                                                          \
      const T *src = cols + s * positions * patch;                                                            \
      T *img = image + s * (size_t)in_h * in_w * in_c;                                                        \
      for (int y = 0; y < in_h; y++) {                                                                        \
        int oy0, oy1;                                                                                         \
        covering(y, pad_top, kh, sh, out_h, &oy0, &oy1);                                                      \
        for (int x = 0; x < in_w; x++) {                                                                      \
          int ox0, ox1;                                                                                       \
          covering(x, pad_left, kw, sw, out_w, &ox0, &ox1);                                                   \
          T *restrict pixel = img + ((size_t)y * in_w + x) * in_c;                                            \
          for (int c = 0; c < in_c; c++) pixel[c] = 0;                                                        \
          for (int oy = oy0; oy <= oy1; oy++) {                                                               \
            const int ky = y + pad_top - oy * sh;                                                             \
            for (int ox = ox0; ox <= ox1; ox++) {                                                             \
              const int kx = x + pad_left - ox * sw;                                                          \
              const T *restrict row = src + ((size_t)oy * out_w + ox) * patch + ((size_t)ky * kw + kx) * in_c; \
              for (int c = 0; c < in_c; c++) pixel[c] += row[c];                                              \
            }                                                                                                 \
          }                                                                                                   \
        }                                                                                                     \
      }                                                                                                       \
    }                                                                                                         \
  }

#define DEFINE_AVGPOOL_BACKWARD(T, SUFFIX)                                                                     \
  NTK_CLONES void ntk_avgpool_backward_##SUFFIX(const T *restrict pooled, T *restrict image, size_t n,           \
                                                int in_h, int in_w, int channels, int wh, int ww, int sh,        \
                                                int sw, int out_h, int out_w) {                                  \
    const T inv = (T)1 / (T)(float)(wh * ww);                                                                    \
    const size_t in_size = (size_t)in_h * in_w * channels, out_size = (size_t)out_h * out_w * channels;          \
    for (size_t s = 0; s < n; s++) {                                                                             \
      const T *src = pooled + s * out_size;                                                                      \
      T *img = image + s * in_size;                                                                              \
      for (int y = 0; y < in_h; y++) {                                                                           \
        int oy0, oy1;                                                                                            \
        covering(y, 0, wh, sh, out_h, &oy0, &oy1);                                                               \
        for (int x = 0; x < in_w; x++) {                                                                         \
          int ox0, ox1;                                                                                          \
          covering(x, 0, ww, sw, out_w, &ox0, &ox1);                                                             \
          T *restrict pixel = img + ((size_t)y * in_w + x) * channels;                                           \
          if (oy0 == oy1 && ox0 == ox1) {                                                                        \
            /* one window (stride = window): 0 + v·inv is v·inv */                                             \
            const T *restrict o = src + ((size_t)oy0 * out_w + ox0) * channels;                                  \
            for (int c = 0; c < channels; c++) pixel[c] = o[c] * inv;                                            \
            continue;                                                                                            \
          }                                                                                                      \
          for (int c = 0; c < channels; c++) pixel[c] = 0;                                                       \
          for (int oy = oy0; oy <= oy1; oy++) {                                                                  \
            for (int ox = ox0; ox <= ox1; ox++) {                                                                \
              const T *restrict o = src + ((size_t)oy * out_w + ox) * channels;                                  \
              for (int c = 0; c < channels; c++) pixel[c] += o[c] * inv;                                         \
            }                                                                                                    \
          }                                                                                                      \
        }                                                                                                        \
      }                                                                                                          \
    }                                                                                                            \
  }

#define DEFINE_INTERLEAVE(T, SUFFIX)                                                                           \
  NTK_CLONES void ntk_interleave_cotangents_##SUFFIX(const T *restrict g, T *restrict gt, T *restrict sums,      \
                                                     size_t ld_sums, T scale, size_t n, size_t m,                \
                                                     size_t positions, size_t channels) {                        \
    const size_t block = positions * channels;                                                                   \
    for (size_t s = 0; s < n; s++) {                                                                             \
      const T *src = g + s * m * block;                                                                          \
      T *dst = gt + s * m * block;                                                                               \
      for (size_t a = 0; a < m; a++) {                                                                           \
        const T *restrict ga = src + a * block;                                                                  \
        T *restrict da = dst + a * channels;                                                                     \
        if (!sums) {                                                                                             \
          for (size_t p = 0; p < positions; p++) {                                                               \
            const T *restrict row = ga + p * channels;                                                           \
            T *restrict out = da + p * m * channels;                                                             \
            for (size_t c = 0; c < channels; c++) out[c] = row[c];                                               \
          }                                                                                                      \
          continue;                                                                                              \
        }                                                                                                        \
        /* the sums while each row is read for the copy */                                                     \
        T *restrict sa = sums + s * ld_sums + a * channels;                                                      \
        for (size_t c = 0; c < channels; c++) sa[c] = 0;                                                         \
        for (size_t p = 0; p < positions; p++) {                                                                 \
          const T *restrict row = ga + p * channels;                                                             \
          T *restrict out = da + p * m * channels;                                                               \
          for (size_t c = 0; c < channels; c++) {                                                                \
            out[c] = row[c];                                                                                     \
            sa[c] += row[c];                                                                                     \
          }                                                                                                      \
        }                                                                                                        \
        if (scale != (T)1)                                                                                       \
          for (size_t c = 0; c < channels; c++) sa[c] *= scale;                                                  \
      }                                                                                                          \
    }                                                                                                            \
  }

DEFINE_COL2IM(float, f32)
DEFINE_COL2IM(double, f64)
DEFINE_AVGPOOL_BACKWARD(float, f32)
DEFINE_AVGPOOL_BACKWARD(double, f64)
DEFINE_INTERLEAVE(float, f32)
DEFINE_INTERLEAVE(double, f64)
