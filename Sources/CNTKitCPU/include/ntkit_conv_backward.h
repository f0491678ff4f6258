// Backward-pass loops of conv nets on the CPU (col2im, average-pool backward)
// and the regrouping of conv cotangents for the trace-NTK features, in C so
// that clang vectorises the channel-contiguous inner loops. No stable Swift API.
//
// Layouts (all row-major, NHWC, one sample after another):
//   image  n × (H·W·C)                     an input cotangent (C channels)
//   cols   n × positions × patch           patch cotangents, patch = kh·kw·C,
//                                          ordered (ky, kx, c); positions = outH·outW
//   pooled n × (outH·outW·C)               an average pool's output cotangent
//   G      n × m × positions × channels    conv-output cotangents, one block per output a
//   Gt     n × positions × m × channels    the same, grouped by position
// Every function overwrites its output (no memset needed beforehand) and
// sums each output value's contributions in ascending output-position order,
// the order of the scatter loops these replace, so results do not depend on
// the vector width (no fused multiply-add contraction).
#pragma once
#include <stddef.h>

// image[s] = col2im(cols[s]) for s < n: the adjoint of im2col with zero
// padding (pad_top, pad_left), strides (sh, sw) and a kh × kw kernel.
void ntk_col2im_f32(const float *cols, float *image, size_t n, int in_h, int in_w, int in_c, int kh, int kw,
                    int sh, int sw, int pad_top, int pad_left, int out_h, int out_w);
void ntk_col2im_f64(const double *cols, double *image, size_t n, int in_h, int in_w, int in_c, int kh, int kw,
                    int sh, int sw, int pad_top, int pad_left, int out_h, int out_w);

// image[s] = avgpool_backward(pooled[s]) for s < n: every input pixel gets
// Σ over the windows covering it of pooled · 1/(wh·ww) (0 where none covers it).
void ntk_avgpool_backward_f32(const float *pooled, float *image, size_t n, int in_h, int in_w, int channels,
                              int wh, int ww, int sh, int sw, int out_h, int out_w);
void ntk_avgpool_backward_f64(const double *pooled, double *image, size_t n, int in_h, int in_w, int channels,
                              int wh, int ww, int sh, int sw, int out_h, int out_w);

// Gt[s, p, a, c] = G[s, a, p, c] for s < n; when sums is not NULL also
// sums[s·ld_sums + a·channels + c] = scale · Σ_p G[s, a, p, c] (p ascending).
void ntk_interleave_cotangents_f32(const float *g, float *gt, float *sums, size_t ld_sums, float scale, size_t n,
                                   size_t m, size_t positions, size_t channels);
void ntk_interleave_cotangents_f64(const double *g, double *gt, double *sums, size_t ld_sums, double scale,
                                   size_t n, size_t m, size_t positions, size_t channels);
