#ifndef NTKIT_FASTMLP_H
#define NTKIT_FASTMLP_H
#include <stddef.h>

/// Small dense-layer kernels for NTKit's RND fast path (row-major, float32).
/// Each has AVX-512, AVX2+FMA and baseline clones chosen at load time.

/// y[n×fo] = act(ws·x[n×fi]·W[fi×fo] + bs·b); act 0 identity, 1 relu, 2 leaky (alpha).
void ntk_fm_affine_forward(const float *x, ptrdiff_t n, ptrdiff_t fi, const float *w, ptrdiff_t fo, float ws,
                           const float *b, float bs, int act, float alpha, float *y);
/// g[i] (n×fo) masked by the activation derivative, read from the layer's output a: relu → 0 where a ≤ 0; leaky → ·alpha.
void ntk_fm_activation_backward(const float *a, float *g, ptrdiff_t count, int act, float alpha);
/// gw[fi×fo] = ws·xᵀg; gb[fo] = bs·Σ_i g[i] (gb may be NULL).
void ntk_fm_weight_gradient(const float *x, const float *g, ptrdiff_t n, ptrdiff_t fi, ptrdiff_t fo, float ws,
                            float *gw, float *gb, float bs);
/// out[n×fi] = ws·g[n×fo]·Wᵀ; wt is scratch of fi·fo floats.
void ntk_fm_input_gradient(const float *g, const float *w, ptrdiff_t n, ptrdiff_t fi, ptrdiff_t fo, float ws,
                           float *wt, float *out);
/// Adam with bias correction folded into lr and invC2 (as CPUDevice.adamStep).
void ntk_fm_adam(float *p, const float *g, float *m, float *v, ptrdiff_t count, float b1, float b2, float lr,
                 float invC2, float eps, float wd);
/// g = scale·(out − y), count values.
void ntk_fm_mse_seed(const float *out, const float *y, float *g, ptrdiff_t count, float scale);
/// Row distances of n rows of m values, in float64: metric 0 mse, 1 l2, 2 l1.
void ntk_fm_distances(const float *a, const float *b, ptrdiff_t n, ptrdiff_t m, int metric, float *out);
#endif
