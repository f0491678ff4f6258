#include "fastmlp.h"
#include <string.h>

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));
#define ld16(p) (*(const v16u *)(p))
#define st16(p, v) (*(v16u *)(p) = (v))

#if defined(__x86_64__) && defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

static inline void act_rows(float *y, ptrdiff_t count, int act, float alpha) {
  if (act == 1) {
    for (ptrdiff_t i = 0; i < count; i++) y[i] = y[i] > 0 ? y[i] : 0;
  } else if (act == 2) {
    for (ptrdiff_t i = 0; i < count; i++) y[i] = y[i] > 0 ? y[i] : alpha * y[i];
  }
}

#define FWD_FIXED(FO)                                                                    \
  for (ptrdiff_t i = 0; i < n; i++) {                                                    \
    const float *xi = x + i * fi;                                                        \
    float acc[FO];                                                                       \
    for (int j = 0; j < FO; j++) acc[j] = 0;                                             \
    for (ptrdiff_t k = 0; k < fi; k++) {                                                 \
      const float xv = xi[k];                                                            \
      const float *wr = w + k * FO;                                                      \
      for (int j = 0; j < FO; j++) acc[j] += xv * wr[j];                                 \
    }                                                                                    \
    float *o = y + i * FO;                                                               \
    if (b) { for (int j = 0; j < FO; j++) o[j] = ws * acc[j] + bs * b[j]; }              \
    else { for (int j = 0; j < FO; j++) o[j] = ws * acc[j]; }                            \
  }

CLONES
void ntk_fm_affine_forward(const float *restrict x, ptrdiff_t n, ptrdiff_t fi, const float *restrict w, ptrdiff_t fo,
                           float ws, const float *restrict b, float bs, int act, float alpha, float *restrict y) {
  if (fo == 32) {
    /* 8 rows × 2 vectors of 16: 16 independent accumulators hide the FMA latency. */
    ptrdiff_t i = 0;
    const v16 bias0 = b ? ld16(b) * bs : (v16){0}, bias1 = b ? ld16(b + 16) * bs : (v16){0};
    for (; i + 8 <= n; i += 8) {
      v16 a0[8], a1[8];
      for (int r = 0; r < 8; r++) { a0[r] = (v16){0}; a1[r] = (v16){0}; }
      const float *xr = x + i * fi;
      for (ptrdiff_t k = 0; k < fi; k++) {
        const v16 w0 = ld16(w + k * 32), w1 = ld16(w + k * 32 + 16);
        for (int r = 0; r < 8; r++) {
          const float xv = xr[r * fi + k];
          a0[r] += xv * w0;
          a1[r] += xv * w1;
        }
      }
      for (int r = 0; r < 8; r++) {
        st16(y + (i + r) * 32, ws * a0[r] + bias0);
        st16(y + (i + r) * 32 + 16, ws * a1[r] + bias1);
      }
    }
    for (; i < n; i++) {
      v16 a0 = {0}, a1 = {0};
      for (ptrdiff_t k = 0; k < fi; k++) {
        const float xv = x[i * fi + k];
        a0 += xv * ld16(w + k * 32);
        a1 += xv * ld16(w + k * 32 + 16);
      }
      st16(y + i * 32, ws * a0 + bias0);
      st16(y + i * 32 + 16, ws * a1 + bias1);
    }
  } else if (fo == 16) {
    FWD_FIXED(16)
  } else if (fo == 64) {
    FWD_FIXED(64)
  } else if (fo == 1) {
    const float bias = b ? bs * b[0] : 0;
    for (ptrdiff_t i = 0; i < n; i++) {
      const float *xi = x + i * fi;
      float s = 0;
      for (ptrdiff_t k = 0; k < fi; k++) s += xi[k] * w[k];
      y[i] = ws * s + bias;
    }
  } else {
    for (ptrdiff_t i = 0; i < n; i++) {
      const float *xi = x + i * fi;
      float *o = y + i * fo;
      for (ptrdiff_t j = 0; j < fo; j++) o[j] = 0;
      for (ptrdiff_t k = 0; k < fi; k++) {
        const float xv = xi[k];
        const float *wr = w + k * fo;
        for (ptrdiff_t j = 0; j < fo; j++) o[j] += xv * wr[j];
      }
      if (b) { for (ptrdiff_t j = 0; j < fo; j++) o[j] = ws * o[j] + bs * b[j]; }
      else { for (ptrdiff_t j = 0; j < fo; j++) o[j] *= ws; }
    }
  }
  act_rows(y, n * fo, act, alpha);
}

CLONES
void ntk_fm_activation_backward(const float *restrict a, float *restrict g, ptrdiff_t count, int act, float alpha) {
  if (act == 1) {
    for (ptrdiff_t i = 0; i < count; i++) g[i] = a[i] > 0 ? g[i] : 0;
  } else if (act == 2) {
    for (ptrdiff_t i = 0; i < count; i++) g[i] = a[i] > 0 ? g[i] : alpha * g[i];
  }
}

CLONES
void ntk_fm_weight_gradient(const float *restrict x, const float *restrict g, ptrdiff_t n, ptrdiff_t fi, ptrdiff_t fo,
                            float ws, float *restrict gw, float *restrict gb, float bs) {
  if (fo == 32) {
    for (ptrdiff_t k = 0; k < fi; k++) {
      float acc[32];
      for (int j = 0; j < 32; j++) acc[j] = 0;
      for (ptrdiff_t i = 0; i < n; i++) {
        const float xv = x[i * fi + k];
        const float *gi = g + i * 32;
        for (int j = 0; j < 32; j++) acc[j] += xv * gi[j];
      }
      for (int j = 0; j < 32; j++) gw[k * 32 + j] = ws * acc[j];
    }
  } else if (fo == 1) {
    for (ptrdiff_t k = 0; k < fi; k++) gw[k] = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
      const float gv = g[i];
      const float *xi = x + i * fi;
      for (ptrdiff_t k = 0; k < fi; k++) gw[k] += xi[k] * gv;
    }
    if (ws != 1) for (ptrdiff_t k = 0; k < fi; k++) gw[k] *= ws;
  } else {
  for (ptrdiff_t t = 0; t < fi * fo; t++) gw[t] = 0;
  for (ptrdiff_t i = 0; i < n; i++) {
    const float *xi = x + i * fi, *gi = g + i * fo;
    for (ptrdiff_t k = 0; k < fi; k++) {
      const float xv = xi[k];
      float *row = gw + k * fo;
      for (ptrdiff_t j = 0; j < fo; j++) row[j] += xv * gi[j];
    }
  }
  if (ws != 1) for (ptrdiff_t t = 0; t < fi * fo; t++) gw[t] *= ws;
  }
  if (gb) {
    for (ptrdiff_t j = 0; j < fo; j++) gb[j] = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
      const float *gi = g + i * fo;
      for (ptrdiff_t j = 0; j < fo; j++) gb[j] += gi[j];
    }
    for (ptrdiff_t j = 0; j < fo; j++) gb[j] *= bs;
  }
}

CLONES
void ntk_fm_input_gradient(const float *restrict g, const float *restrict w, ptrdiff_t n, ptrdiff_t fi, ptrdiff_t fo,
                           float ws, float *restrict wt, float *restrict out) {
  for (ptrdiff_t k = 0; k < fi; k++)
    for (ptrdiff_t j = 0; j < fo; j++) wt[j * fi + k] = ws * w[k * fo + j];
  if (fi == 32) {
    for (ptrdiff_t i = 0; i < n; i++) {
      const float *gi = g + i * fo;
      float acc[32];
      for (int k = 0; k < 32; k++) acc[k] = 0;
      for (ptrdiff_t j = 0; j < fo; j++) {
        const float gv = gi[j];
        const float *row = wt + j * 32;
        for (int k = 0; k < 32; k++) acc[k] += gv * row[k];
      }
      float *o = out + i * 32;
      for (int k = 0; k < 32; k++) o[k] = acc[k];
    }
    return;
  }
  for (ptrdiff_t i = 0; i < n; i++) {
    const float *gi = g + i * fo;
    float *o = out + i * fi;
    for (ptrdiff_t k = 0; k < fi; k++) o[k] = 0;
    for (ptrdiff_t j = 0; j < fo; j++) {
      const float gv = gi[j];
      const float *row = wt + j * fi;
      for (ptrdiff_t k = 0; k < fi; k++) o[k] += gv * row[k];
    }
  }
}

CLONES
void ntk_fm_adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, ptrdiff_t count,
                 float b1, float b2, float lr, float invC2, float eps, float wd) {
  for (ptrdiff_t i = 0; i < count; i++) {
    const float gr = g[i] + wd * p[i];
    const float mi = b1 * m[i] + (1 - b1) * gr;
    const float vi = b2 * v[i] + (1 - b2) * gr * gr;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr * mi / (__builtin_sqrtf(vi * invC2) + eps);
  }
}

CLONES
void ntk_fm_mse_seed(const float *restrict out, const float *restrict y, float *restrict g, ptrdiff_t count, float scale) {
  for (ptrdiff_t i = 0; i < count; i++) g[i] = scale * (out[i] - y[i]);
}

CLONES
void ntk_fm_distances(const float *restrict a, const float *restrict b, ptrdiff_t n, ptrdiff_t m, int metric,
                      float *restrict out) {
  if (m == 1 && metric != 2) {
    for (ptrdiff_t i = 0; i < n; i++) {
      const double e = (double)a[i] - (double)b[i];
      out[i] = metric == 0 ? (float)(e * e) : (float)__builtin_sqrt(e * e);
    }
    return;
  }
  for (ptrdiff_t i = 0; i < n; i++) {
    double s = 0;
    const float *ai = a + i * m, *bi = b + i * m;
    if (metric == 2) {
      for (ptrdiff_t k = 0; k < m; k++) s += __builtin_fabs((double)ai[k] - (double)bi[k]);
    } else {
      for (ptrdiff_t k = 0; k < m; k++) { const double e = (double)ai[k] - (double)bi[k]; s += e * e; }
      s = metric == 0 ? s / (double)m : __builtin_sqrt(s);
    }
    out[i] = (float)s;
  }
}
