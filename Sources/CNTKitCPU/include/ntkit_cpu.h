// Hot element-wise loops of the CPU device, in C so that clang vectorises
// them (selects on comparisons, fused multiply-adds) for the widest vector
// unit found at run time (target_clones). No stable Swift API.
#pragma once
#include <stddef.h>

// y[k] = z[k] > 0 ? z[k] : 0, k < count.
void ntk_relu_f32(float *y, const float *z, size_t count);
void ntk_relu_f64(double *y, const double *z, size_t count);

// g[(i*m + a)*width + k] = z[i*width + k] > 0 ? g[...] : 0 for i < n, a < m.
void ntk_relu_backward_f32(float *g, const float *z, size_t n, size_t m, size_t width);
void ntk_relu_backward_f64(double *g, const double *z, size_t n, size_t m, size_t width);

// out[i*ldo + j] += (ka[i*nj + j] + c) * kg[i*nj + j] for i < ni, j < nj.
void ntk_hadamard_accumulate_f32(float *out, size_t ldo, const float *ka, const float *kg, size_t ni, size_t nj, float c);
void ntk_hadamard_accumulate_f64(double *out, size_t ldo, const double *ka, const double *kg, size_t ni, size_t nj, double c);
