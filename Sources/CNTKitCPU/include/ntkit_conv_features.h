// Trace-mode Jacobian features of a conv layer on the CPU, float32: for each
// sample one pass over its output cotangents for all m network outputs, in C
// with explicit vector blocks. No stable Swift API.
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
