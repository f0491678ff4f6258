// Conv-layer products of the NTK features on the CPU, float32, in C with
// explicit vector blocks: the trace-mode Jacobian features (one pass over a
// sample's output cotangents for all m network outputs) and the input
// cotangent of the backward pass (the product with the kernel and col2im in
// one pass, no patch cotangents in memory). No stable Swift API.
//
// Shapes and layout (row-major, one sample after another):
//   x    n × positions × patch         the layer's im2col patches
//   g    n × m × positions × out_c     its output cotangents, one block per output a
//   out  per sample (row stride ld_out between samples):
//          kernel part  patch × m × out_c:  out[k·m·out_c + a·out_c + c] = alpha · Σ_p x[p, k]·g[a, p, c]
//          then, with_bias, m × out_c:      out[patch·m·out_c + a·out_c + c] = bias_scale · Σ_p g[a, p, c]
// out_c must be a multiple of 16. Sums run over p ascending with fused
// multiply-adds (kernel part) and plain adds (bias part): the same bits on
// every instruction set.
#pragma once
#include <stddef.h>

void ntk_conv_trace_features_f32(const float *x, const float *g, float *out, size_t ld_out, size_t n,
                                 size_t positions, size_t patch, size_t m, size_t out_c, float alpha,
                                 int with_bias, float bias_scale);

// Input cotangent of a conv layer for `count` images (samples × outputs):
//   g      count × out_h × out_w × out_c   output cotangents
//   wt     (kh·kw) × out_c × in_c          the kernel transposed per tap and scaled:
//                                          wt[(t·out_c + co)·in_c + ci] = alpha·W[(t·in_c + ci)·out_c + co]
//   image  count × in_h × in_w × in_c      overwritten: image[y, x, ci] = Σ over the output
//          positions (oy, ox) covering (y, x) and co of g[oy, ox, co]·wt[t, co, ci]
//          (taps in (oy, ky, kx) order, each summed over co first)
// (zero padding pad_top/pad_left, strides sh/sw; in_c a multiple of 16).
void ntk_conv_input_cotangent_f32(const float *g, const float *wt, float *image, size_t count, int in_h, int in_w,
                                  int in_c, int kh, int kw, int sh, int sw, int pad_top, int pad_left, int out_h,
                                  int out_w, int out_c);
