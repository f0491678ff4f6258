#ifndef NTKIT_FASTMLP_H
#define NTKIT_FASTMLP_H
#include <stddef.h>
#include "ntkit_codes.h"

/// Small dense-layer kernels for NTKit's RND fast path (row-major, float32).
/// Each has AVX-512, AVX2+FMA and baseline copies, chosen per call by NTKIT_ISA (ntk_isa_get);
/// all give the same bits (explicit FMA in every copy, fixed reduction orders).

/// y[n×fo] = act(ws·x[n×fi]·W[fi×fo] + bs·b); act NTK_ACT_IDENTITY, NTK_ACT_RELU or NTK_ACT_LEAKY_RELU (alpha)
/// (ntkit_codes.h; other codes act as identity).
void ntk_fm_affine_forward(const float *x, ptrdiff_t n, ptrdiff_t fi, const float *w, ptrdiff_t fo, float ws,
                           const float *b, float bs, int act, float alpha, float *y);
/// Row distances of n rows of m values, in float64: metric NTK_METRIC_MSE, NTK_METRIC_L1 or NTK_METRIC_L2
/// (ntkit_codes.h; any other code computes l2).
void ntk_fm_distances(const float *a, const float *b, ptrdiff_t n, ptrdiff_t m, int metric, float *out);
/// One dense layer of ntk_fm_fit: kernel and bias are offsets into θ (bias −1: none); act as above.
typedef struct {
  ptrdiff_t fanIn, fanOut, kernel, bias;
  float weightScale, biasScale;
  int act;
  float alpha;
} ntk_fm_layer;
/// `steps` full-batch Adam steps of mse on n rows (x: n×d, y: n×m): step s uses lrs[s] and invC2s[s];
/// acts[l] holds n×fanOut floats, cot/cot2 n×(max width), wt θ-sized scratch.
void ntk_fm_fit(const ntk_fm_layer *layers, int count, float *theta, float *grad, float *m1, float *m2,
                ptrdiff_t parameters, const float *x, const float *y, ptrdiff_t n, ptrdiff_t m, float *const *acts,
                float *cot, float *cot2, float *wt, int steps, const float *lrs, const float *invC2s, float b1,
                float b2, float eps, float wd);
/// Returns *counter and adds 1, atomically: scoring threads take pool blocks in turn (a worker that
/// is descheduled takes fewer; each block's result does not depend on which worker scored it).
ptrdiff_t ntk_fm_next_block(ptrdiff_t *counter);
#endif
