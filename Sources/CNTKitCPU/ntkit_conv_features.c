// Conv-layer products of the NTK features (see include/ntkit_conv_features.h
// for shapes and layout): trace-mode features, then the input cotangent.
//
// Blocking: for each output a and each strip of 32 channels (AVX-512) or 16
// (AVX2, baseline), rows of the patch in blocks of 9 (a whole 3×3
// single-channel kernel), 8, 4 and 1 (AVX-512) or 6, 3 and 1; a block's sums
// stay in vector registers over all positions (one vector load of g and KB
// broadcasts of x per position), then are scaled and stored once; the first
// block of a strip also sums the bias part. One pass reads a sample's
// cotangents straight from the backward pass's [m][pos][out_c] layout: no
// regrouping copy and no BLAS packing (these products, 9 × 320 × 676 for a
// 3×3 single-channel conv, are far too small for BLAS to reach its speed).
#include "ntkit_conv_features.h"
#include "ntkit_isa.h"
#include <string.h>

// No implicit contraction: the fused multiply-adds below are explicit.
#pragma clang fp contract(off)

// The AVX2 clone is x86-64-v3 (AVX2 with FMA: "avx2" alone would call fmaf
// per element); the baseline clone computes the same fused multiply-adds
// in software (libm fmaf), so every clone gives the same bits.
#if defined(__x86_64__) && defined(__clang__)
#define NTK_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define NTK_CLONES
#endif

typedef float v16 __attribute__((vector_size(64), aligned(4)));

// s (a float variable) in every lane: a broadcast (not 0 + s, whose add the
// compiler must keep, since 0 + -0 is +0). A macro: a v16-returning helper
// would cross the clones' vector ABIs.
#define SPLAT16(s) ((v16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s})

// out[k·ldo + 16·v + c] = alpha · Σ_p x[p·ldx + k]·g[p·ldg + 16·v + c] for k < KB, v < NV, c < 16;
// with bias non-NULL also bias[16·v + c] = bias_scale · Σ_p g[p·ldg + 16·v + c] (plain adds, p ascending).
#define DEFINE_BLOCK(KB, NV)                                                                               \
  static inline __attribute__((always_inline)) void block_##KB##_##NV(                                      \
      const float *restrict x, size_t ldx, const float *restrict g, size_t ldg, size_t positions,            \
      float *restrict out, size_t ldo, float alpha, float *restrict bias, float bias_scale) {               \
    v16 acc[KB][NV], bsum[NV];                                                                             \
    for (int k = 0; k < KB; k++)                                                                           \
      for (int v = 0; v < NV; v++) acc[k][v] = (v16){0};                                                   \
    for (int v = 0; v < NV; v++) bsum[v] = (v16){0};                                                       \
    for (size_t p = 0; p < positions; p++) {                                                               \
      v16 gv[NV];                                                                                          \
      memcpy(gv, g + p * ldg, sizeof gv);                                                                  \
      const float *restrict xr = x + p * ldx;                                                              \
      for (int k = 0; k < KB; k++) {                                                                       \
        const float xk = xr[k];                                                                            \
        const v16 xv = SPLAT16(xk);                                                                        \
        for (int v = 0; v < NV; v++) acc[k][v] = __builtin_elementwise_fma(xv, gv[v], acc[k][v]);          \
      }                                                                                                    \
      if (bias)                                                                                            \
        for (int v = 0; v < NV; v++) bsum[v] += gv[v];                                                     \
    }                                                                                                      \
    for (int k = 0; k < KB; k++)                                                                           \
      for (int v = 0; v < NV; v++) {                                                                       \
        const v16 r = acc[k][v] * alpha;                                                                   \
        memcpy(out + k * ldo + 16 * v, &r, sizeof r);                                                      \
      }                                                                                                    \
    if (bias)                                                                                              \
      for (int v = 0; v < NV; v++) {                                                                       \
        const v16 r = bsum[v] * bias_scale;                                                                \
        memcpy(bias + 16 * v, &r, sizeof r);                                                               \
      }                                                                                                    \
  }

DEFINE_BLOCK(9, 2)
DEFINE_BLOCK(8, 2)
DEFINE_BLOCK(4, 2)
DEFINE_BLOCK(1, 2)
DEFINE_BLOCK(9, 1)
DEFINE_BLOCK(6, 1)
DEFINE_BLOCK(3, 1)
DEFINE_BLOCK(1, 1)

// Every patch row of one channel strip (NV vectors of 16) of output a: a
// 3 × 3 single-channel kernel (patch 9) in one block, else blocks of MID,
// SMALL and 1 rows; the first block also sums the bias part (into `bias`, or
// not when NULL). Wide (AVX-512, 32 registers): NV 2, blocks of 8 and 4 (up
// to 18 + 2 accumulators); narrow (AVX2, 16 registers): NV 1, blocks of 6 and
// 3 (at most 12 + 2 accumulators as ymm pairs, no spills).
#define STRIP(NV, MID, SMALL)                                                                               \
  do {                                                                                                      \
    size_t k0 = 0;                                                                                          \
    float *b = bias;                                                                                        \
    if (patch == 9) {                                                                                       \
      block_9_##NV(xs, patch, ga + c0, out_c, positions, os + a * out_c + c0, ldo, alpha, b, bias_scale);    \
      k0 = 9;                                                                                               \
      b = 0;                                                                                                \
    }                                                                                                       \
    for (; k0 + MID <= patch; k0 += MID, b = 0)                                                             \
      block_##MID##_##NV(xs + k0, patch, ga + c0, out_c, positions, os + k0 * ldo + a * out_c + c0, ldo, alpha, \
                         b, bias_scale);                                                                    \
    for (; k0 + SMALL <= patch; k0 += SMALL, b = 0)                                                         \
      block_##SMALL##_##NV(xs + k0, patch, ga + c0, out_c, positions, os + k0 * ldo + a * out_c + c0, ldo,   \
                           alpha, b, bias_scale);                                                           \
    for (; k0 < patch; k0++, b = 0)                                                                         \
      block_1_##NV(xs + k0, patch, ga + c0, out_c, positions, os + k0 * ldo + a * out_c + c0, ldo, alpha, b, \
                   bias_scale);                                                                             \
  } while (0)

NTK_CLONES void ntk_conv_trace_features_f32(const float *x, const float *g, float *out, size_t ld_out, size_t n,
                                            size_t positions, size_t patch, size_t m, size_t out_c, float alpha,
                                            int with_bias, float bias_scale) {
  const size_t ldo = m * out_c;
  // The blocking follows NTKIT_ISA (not which clone runs); every blocking gives the same bits.
  const int wide = ntk_isa_get() >= NTK_ISA_AVX512;
  for (size_t s = 0; s < n; s++) {
    const float *xs = x + s * positions * patch;
    const float *gs = g + s * m * positions * out_c;
    float *os = out + s * ld_out;
    for (size_t a = 0; a < m; a++) {
      const float *ga = gs + a * positions * out_c;
      size_t c0 = 0;
      for (; wide && c0 + 32 <= out_c; c0 += 32) {
        float *bias = with_bias ? os + patch * ldo + a * out_c + c0 : 0;
        STRIP(2, 8, 4);
      }
      for (; c0 + 16 <= out_c; c0 += 16) {
        float *bias = with_bias ? os + patch * ldo + a * out_c + c0 : 0;
        STRIP(1, 6, 3);
      }
    }
  }
}

// Input cotangent, output-row major: for each output row oy and tap (ky, kx),
// blocks of OB output positions along x multiply their cotangent rows by the
// tap's out_c × in_c matrix (sums in registers over co, NV vectors of 16
// input channels per strip), then add into the OB input pixels they reach
// (skipping padding). Each image is zeroed first (in cache); a pixel's
// contributions arrive in (oy, ky, kx) order.
#define TAP_BLOCK(OB, NV)                                                                                \
  do {                                                                                                   \
    v16 acc[OB][NV];                                                                                     \
    for (int b = 0; b < OB; b++)                                                                         \
      for (int v = 0; v < NV; v++) acc[b][v] = (v16){0};                                                 \
    const float *restrict gr = gi + ((size_t)oy * out_w + ox) * out_c;                                   \
    for (int co = 0; co < out_c; co++) {                                                                 \
      v16 w[NV];                                                                                         \
      memcpy(w, wr + (size_t)co * in_c, sizeof w);                                                       \
      for (int b = 0; b < OB; b++) {                                                                     \
        const float gs = gr[(size_t)b * out_c + co];                                                      \
        const v16 gv = SPLAT16(gs);                                                                      \
        for (int v = 0; v < NV; v++) acc[b][v] = __builtin_elementwise_fma(gv, w[v], acc[b][v]);         \
      }                                                                                                  \
    }                                                                                                    \
    for (int b = 0; b < OB; b++) {                                                                       \
      const int x = (ox + b) * sw + kx - pad_left;                                                       \
      if (x < 0 || x >= in_w) continue;                                                                  \
      float *restrict pixel = dst + (size_t)x * in_c;                                                    \
      for (int v = 0; v < NV; v++) {                                                                     \
        v16 p;                                                                                           \
        memcpy(&p, pixel + 16 * v, sizeof p);                                                            \
        p += acc[b][v];                                                                                  \
        memcpy(pixel + 16 * v, &p, sizeof p);                                                            \
      }                                                                                                  \
    }                                                                                                    \
  } while (0)

// Blocks of OB positions × NV vectors: wide (AVX-512) 4 × 2 for strips of 32
// channels; otherwise 6 × 1 (AVX2: 12 ymm accumulators, no spills).
#define TAP_STRIP(OB, NV)                                                                                \
  do {                                                                                                   \
    int ox = 0;                                                                                          \
    for (; ox + OB <= out_w; ox += OB) TAP_BLOCK(OB, NV);                                                \
    for (; ox < out_w; ox++) TAP_BLOCK(1, NV);                                                           \
  } while (0)

NTK_CLONES void ntk_conv_input_cotangent_f32(const float *g, const float *wt, float *image, size_t count, int in_h,
                                             int in_w, int in_c, int kh, int kw, int sh, int sw, int pad_top,
                                             int pad_left, int out_h, int out_w, int out_c) {
  const size_t in_size = (size_t)in_h * in_w * in_c, out_size = (size_t)out_h * out_w * out_c;
  // The blocking follows NTKIT_ISA (not which clone runs); every blocking gives the same bits.
  const int wide = ntk_isa_get() >= NTK_ISA_AVX512;
  for (size_t i = 0; i < count; i++) {
    const float *gi = g + i * out_size;
    float *img = image + i * in_size;
    memset(img, 0, in_size * sizeof(float));
    for (int oy = 0; oy < out_h; oy++) {
      for (int ky = 0; ky < kh; ky++) {
        const int y = oy * sh + ky - pad_top;
        if (y < 0 || y >= in_h) continue;
        float *row = img + (size_t)y * in_w * in_c;
        for (int kx = 0; kx < kw; kx++) {
          const float *tap = wt + ((size_t)(ky * kw + kx) * out_c) * in_c;
          int c0 = 0;
          for (; wide && c0 + 32 <= in_c; c0 += 32) {
            const float *wr = tap + c0;
            float *dst = row + c0;
            TAP_STRIP(4, 2);
          }
          for (; c0 + 16 <= in_c; c0 += 16) {
            const float *wr = tap + c0;
            float *dst = row + c0;
            TAP_STRIP(6, 1);
          }
        }
      }
    }
  }
}
