#include "fastmlp.h"
#include "ntkit_isa.h"
#include "ntkit_codes.h"
// Same bits on every CPU and instruction set (issue 12): no contraction, so
// every multiply-add is written out: FMA (one rounding) where a sum of
// products accumulates, fmaf/llvm.fma in every clone including the baseline
// one (where it is a libm call), and plain rounded operations elsewhere.
// Vectors always run across independent outputs (or across 16 fixed lanes
// reduced in a fixed order), never a width-dependent split of one sum; the
// generic 16-lane vector type means the same lanes whatever the hardware
// width. Set here rather than by per-target flags (no unsafeFlags); the
// baseline clone's vector arguments to always-inline helpers are not an ABI
// concern.
#pragma clang fp contract(off)
#pragma clang diagnostic ignored "-Wpsabi"
#include <string.h>

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));
#define ld16(p) (*(const v16u *)(p))
#define st16(p, v) (*(v16u *)(p) = (v))

/* Fused multiply-add c + a·b, one rounding: vectors (16 lanes) and scalars. */
#define VFMA(a, b, c) __builtin_elementwise_fma((a), (b), (c))
#define SFMA(a, b, c) __builtin_fmaf((a), (b), (c))
/* A scalar broadcast to 16 lanes (one broadcast, no arithmetic). */
#define SPLAT(x) splat16(x)

static inline void act_rows(float *y, ptrdiff_t count, int act, float alpha) {
  if (act == NTK_ACT_RELU) {
    for (ptrdiff_t i = 0; i < count; i++) y[i] = y[i] > 0 ? y[i] : 0;
  } else if (act == NTK_ACT_LEAKY_RELU) {
    for (ptrdiff_t i = 0; i < count; i++) y[i] = y[i] > 0 ? y[i] : alpha * y[i];
  }
}

static inline __attribute__((always_inline)) v16 splat16(float x) {
  return (v16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
}

typedef int v16i __attribute__((vector_size(64)));
typedef int v16iu __attribute__((vector_size(64), aligned(4)));
#define AI static inline __attribute__((always_inline))

/* relu on a vector: v > 0 ? v : 0 (NaN and −0 give +0, as the scalar form). */
AI v16 relu16(v16 v) { return (v16)((v16i)v & (v16i)(v > (v16){0})); }

#define FWD_FIXED(FO)                                                                    \
  for (ptrdiff_t i = 0; i < n; i++) {                                                    \
    const float *xi = x + i * fi;                                                        \
    float acc[FO];                                                                       \
    for (int j = 0; j < FO; j++) acc[j] = 0;                                             \
    for (ptrdiff_t k = 0; k < fi; k++) {                                                 \
      const float xv = xi[k];                                                            \
      const float *wr = w + k * FO;                                                      \
      for (int j = 0; j < FO; j++) acc[j] = SFMA(xv, wr[j], acc[j]);                     \
    }                                                                                    \
    float *o = y + i * FO;                                                               \
    if (b) { for (int j = 0; j < FO; j++) o[j] = ws * acc[j] + bs * b[j]; }              \
    else { for (int j = 0; j < FO; j++) o[j] = ws * acc[j]; }                            \
  }

/* o[j] = Σ_k v[k] · m[k·cols + j] for j < cols, each summed in k order with one FMA per term
   (v: K values, m: K × cols, row-major). */
AI void row_times_matrix(const float *restrict v, ptrdiff_t K, const float *restrict m, ptrdiff_t cols,
                         float *restrict o) {
  for (ptrdiff_t j = 0; j < cols; j++) o[j] = 0;
  for (ptrdiff_t k = 0; k < K; k++) {
    const float vk = v[k];
    const float *mk = m + k * cols;
    for (ptrdiff_t j = 0; j < cols; j++) o[j] = SFMA(vk, mk[j], o[j]);
  }
}

/* a0[r] ‖ a1[r] = Σ_k x[r·K + k] · w[k·32 .. k·32 + 31] for R rows (R constant at each call) × 32
   outputs: 2R independent accumulators, each summed in k order with one FMA per term. */
AI void acc32_rows(const float *restrict x, ptrdiff_t K, const float *restrict w, v16 *restrict a0, v16 *restrict a1,
                   const int R) {
  for (int r = 0; r < R; r++) { a0[r] = (v16){0}; a1[r] = (v16){0}; }
  for (ptrdiff_t k = 0; k < K; k++) {
    const v16 w0 = ld16(w + k * 32), w1 = ld16(w + k * 32 + 16);
    for (int r = 0; r < R; r++) {
      const v16 xv = SPLAT(x[r * K + k]);
      a0[r] = VFMA(xv, w0, a0[r]);
      a1[r] = VFMA(xv, w1, a1[r]);
    }
  }
}

/* R rows × 32 outputs of an affine layer: y = act(ws·x·W + bias). */
AI void fwd32_rows(const float *restrict x, ptrdiff_t fi, const float *restrict w, float ws, v16 bias0, v16 bias1,
                   int relu, float *restrict y, const int R) {
  v16 a0[8], a1[8];
  acc32_rows(x, fi, w, a0, a1, R);
  for (int r = 0; r < R; r++) {
    v16 o0 = ws * a0[r] + bias0, o1 = ws * a1[r] + bias1;
    if (relu) { o0 = relu16(o0); o1 = relu16(o1); }
    st16(y + r * 32, o0);
    st16(y + r * 32 + 16, o1);
  }
}

/* RB: the most rows per register block (8 with 32 vector registers, 2 with 16): each row's sums
   run in the same order whatever RB, so it changes speed, never bits. */
AI void affine_forward(const float *restrict x, ptrdiff_t n, ptrdiff_t fi, const float *restrict w, ptrdiff_t fo,
                       float ws, const float *restrict b, float bs, int act, float alpha, float *restrict y, const int RB) {
  if (fo == 32) {
    const v16 bias0 = b ? ld16(b) * bs : (v16){0}, bias1 = b ? ld16(b + 16) * bs : (v16){0};
    const int relu = act == NTK_ACT_RELU;
    ptrdiff_t i = 0;
    if (RB >= 8) for (; i + 8 <= n; i += 8) fwd32_rows(x + i * fi, fi, w, ws, bias0, bias1, relu, y + i * 32, 8);
    if (RB >= 4) for (; i + 4 <= n; i += 4) fwd32_rows(x + i * fi, fi, w, ws, bias0, bias1, relu, y + i * 32, 4);
    for (; i + 2 <= n; i += 2) fwd32_rows(x + i * fi, fi, w, ws, bias0, bias1, relu, y + i * 32, 2);
    if (i < n) fwd32_rows(x + i * fi, fi, w, ws, bias0, bias1, relu, y + i * 32, 1);
    if (act == NTK_ACT_LEAKY_RELU) act_rows(y, n * fo, act, alpha);
    return;
  } else if (fo == 16) {
    FWD_FIXED(16)
  } else if (fo == 64) {
    FWD_FIXED(64)
  } else if (fo == 1) {
    const float bias = b ? bs * b[0] : 0;
    const ptrdiff_t kv = fi & ~(ptrdiff_t)15;
    for (ptrdiff_t i = 0; i < n; i++) {
      const float *xi = x + i * fi;
      v16 acc = {0};
      for (ptrdiff_t k = 0; k < kv; k += 16) acc = VFMA(ld16(xi + k), ld16(w + k), acc);
      float s = 0;
      for (int t = 0; t < 16; t++) s += acc[t];
      for (ptrdiff_t k = kv; k < fi; k++) s = SFMA(xi[k], w[k], s);
      y[i] = ws * s + bias;
    }
  } else {
    for (ptrdiff_t i = 0; i < n; i++) {
      float *o = y + i * fo;
      row_times_matrix(x + i * fi, fi, w, fo, o);
      if (b) { for (ptrdiff_t j = 0; j < fo; j++) o[j] = ws * o[j] + bs * b[j]; }
      else { for (ptrdiff_t j = 0; j < fo; j++) o[j] *= ws; }
    }
  }
  act_rows(y, n * fo, act, alpha);
}

AI void ntk_fm_affine_forward_impl(const float *restrict x, ptrdiff_t n, ptrdiff_t fi, const float *restrict w, ptrdiff_t fo,
                           float ws, const float *restrict b, float bs, int act, float alpha, float *restrict y, const int RB) {
  affine_forward(x, n, fi, w, fo, ws, b, bs, act, alpha, y, RB);
}

AI void activation_backward(const float *restrict a, float *restrict g, ptrdiff_t count, int act, float alpha) {
  if (act == NTK_ACT_RELU) {
    for (ptrdiff_t i = 0; i < count; i++) g[i] = a[i] > 0 ? g[i] : 0;
  } else if (act == NTK_ACT_LEAKY_RELU) {
    for (ptrdiff_t i = 0; i < count; i++) g[i] = a[i] > 0 ? g[i] : alpha * g[i];
  }
}

/* K consecutive input features (K constant at each call) × 32 outputs of gw = ws·xᵀg;
   with `bias`, also gb = bs·Σ_i g[i]. 2K (+2) independent accumulators. */
AI void wgrad32_cols(const float *restrict x, const float *restrict g, ptrdiff_t n, ptrdiff_t fi, float ws,
                     float *restrict gw, float *restrict gb, float bs, const int K) {
  v16 a0[8], a1[8], b0 = {0}, b1 = {0};
  for (int r = 0; r < K; r++) { a0[r] = (v16){0}; a1[r] = (v16){0}; }
  for (ptrdiff_t i = 0; i < n; i++) {
    const v16 g0 = ld16(g + i * 32), g1 = ld16(g + i * 32 + 16);
    const float *xr = x + i * fi;
    for (int r = 0; r < K; r++) {
      const v16 xv = SPLAT(xr[r]);
      a0[r] = VFMA(xv, g0, a0[r]);
      a1[r] = VFMA(xv, g1, a1[r]);
    }
    if (gb) { b0 += g0; b1 += g1; }
  }
  for (int r = 0; r < K; r++) {
    st16(gw + r * 32, ws * a0[r]);
    st16(gw + r * 32 + 16, ws * a1[r]);
  }
  if (gb) { st16(gb, bs * b0); st16(gb + 16, bs * b1); }
}

AI void weight_gradient(const float *restrict x, const float *restrict g, ptrdiff_t n, ptrdiff_t fi, ptrdiff_t fo,
                        float ws, float *restrict gw, float *restrict gb, float bs, const int RB) {
  if (fo == 32) {
    ptrdiff_t k = 0;
    float *bias = gb;
    if (RB >= 8) for (; k + 8 <= fi; k += 8) { wgrad32_cols(x + k, g, n, fi, ws, gw + k * 32, bias, bs, 8); bias = 0; }
    if (RB >= 4) for (; k + 4 <= fi; k += 4) { wgrad32_cols(x + k, g, n, fi, ws, gw + k * 32, bias, bs, 4); bias = 0; }
    for (; k + 2 <= fi; k += 2) { wgrad32_cols(x + k, g, n, fi, ws, gw + k * 32, bias, bs, 2); bias = 0; }
    for (; k < fi; k++) { wgrad32_cols(x + k, g, n, fi, ws, gw + k * 32, bias, bs, 1); bias = 0; }
    if (bias) wgrad32_cols(x, g, n, fi, ws, gw, bias, bs, 0);
    return;
  } else if (fo == 1) {
    for (ptrdiff_t k = 0; k < fi; k++) gw[k] = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
      const float gv = g[i];
      const float *xi = x + i * fi;
      for (ptrdiff_t k = 0; k < fi; k++) gw[k] = SFMA(xi[k], gv, gw[k]);
    }
    if (ws != 1) for (ptrdiff_t k = 0; k < fi; k++) gw[k] *= ws;
  } else {
  for (ptrdiff_t t = 0; t < fi * fo; t++) gw[t] = 0;
  for (ptrdiff_t i = 0; i < n; i++) {
    const float *xi = x + i * fi, *gi = g + i * fo;
    for (ptrdiff_t k = 0; k < fi; k++) {
      const float xv = xi[k];
      float *row = gw + k * fo;
      for (ptrdiff_t j = 0; j < fo; j++) row[j] = SFMA(xv, gi[j], row[j]);
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

/* R rows (constant) of out[R×32] = g[R×fo]·wt[fo×32]. */
AI void igrad32_rows(const float *restrict g, const float *restrict wt, ptrdiff_t fo, float *restrict out, const int R) {
  v16 a0[8], a1[8];
  acc32_rows(g, fo, wt, a0, a1, R);
  for (int r = 0; r < R; r++) { st16(out + r * 32, a0[r]); st16(out + r * 32 + 16, a1[r]); }
}

/* One butterfly stage of a 16 × 16 transpose: swaps the off-diagonal b × b
   sub-blocks of each 2b × 2b block between rows x (r) and y (r + b). */
#define TSTAGE(x, y, b, lo0, lo1, lo2, lo3, lo4, lo5, lo6, lo7, lo8, lo9, lo10, lo11, lo12, lo13, lo14, lo15, \
               hi0, hi1, hi2, hi3, hi4, hi5, hi6, hi7, hi8, hi9, hi10, hi11, hi12, hi13, hi14, hi15)            \
  {                                                                                                         \
    v16 l_ = __builtin_shufflevector(x, y, lo0, lo1, lo2, lo3, lo4, lo5, lo6, lo7, lo8, lo9, lo10, lo11, lo12, \
                                     lo13, lo14, lo15);                                                     \
    v16 h_ = __builtin_shufflevector(x, y, hi0, hi1, hi2, hi3, hi4, hi5, hi6, hi7, hi8, hi9, hi10, hi11, hi12, \
                                     hi13, hi14, hi15);                                                     \
    x = l_;                                                                                                 \
    y = h_;                                                                                                 \
  }
#define TSTAGE8(x, y) TSTAGE(x, y, 8, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23, \
                             8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31)
#define TSTAGE4(x, y) TSTAGE(x, y, 4, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27, \
                             4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31)
#define TSTAGE2(x, y) TSTAGE(x, y, 2, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29, \
                             2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31)
#define TSTAGE1(x, y) TSTAGE(x, y, 1, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30, \
                             1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31)

/* dst (16 × 16, row stride 32) = ws · srcᵀ (src 16 × 16, row stride 32): exact
   data movement and one multiplication per value, as the scalar loop. */
AI void transpose16_scaled(const float *restrict src, float ws, float *restrict dst) {
  v16 r[16];
  for (int i = 0; i < 16; i++) r[i] = ld16(src + i * 32);
  for (int i = 0; i < 16; i++) if (!(i & 8)) TSTAGE8(r[i], r[i + 8])
  for (int i = 0; i < 16; i++) if (!(i & 4)) TSTAGE4(r[i], r[i + 4])
  for (int i = 0; i < 16; i++) if (!(i & 2)) TSTAGE2(r[i], r[i + 2])
  for (int i = 0; i < 16; i++) if (!(i & 1)) TSTAGE1(r[i], r[i + 1])
  for (int i = 0; i < 16; i++) st16(dst + i * 32, ws * r[i]);
}

/* wt[j·32 + k] = ws · w[k·32 + j] for a 32 × 32 kernel, in four 16 × 16
   blocks (a strided gather per value was a fifth of the retraining). */
AI void transpose32_scaled(const float *restrict w, float ws, float *restrict wt) {
  transpose16_scaled(w, ws, wt);
  transpose16_scaled(w + 16, ws, wt + 16 * 32);
  transpose16_scaled(w + 16 * 32, ws, wt + 16);
  transpose16_scaled(w + 16 * 32 + 16, ws, wt + 16 * 32 + 16);
}

AI void input_gradient(const float *restrict g, const float *restrict w, ptrdiff_t n, ptrdiff_t fi, ptrdiff_t fo,
                       float ws, float *restrict wt, float *restrict out, const int RB) {
  if (fo == 1) {
    for (ptrdiff_t i = 0; i < n; i++) {
      const float gv = g[i];
      float *o = out + i * fi;
      for (ptrdiff_t k = 0; k < fi; k++) o[k] = gv * (ws * w[k]);
    }
    return;
  }
  if (fo == 32 && fi == 32) {
    transpose32_scaled(w, ws, wt);
  } else {
    for (ptrdiff_t k = 0; k < fi; k++)
      for (ptrdiff_t j = 0; j < fo; j++) wt[j * fi + k] = ws * w[k * fo + j];
  }
  if (fi == 32) {
    ptrdiff_t i = 0;
    if (RB >= 8) for (; i + 8 <= n; i += 8) igrad32_rows(g + i * fo, wt, fo, out + i * 32, 8);
    if (RB >= 4) for (; i + 4 <= n; i += 4) igrad32_rows(g + i * fo, wt, fo, out + i * 32, 4);
    for (; i + 2 <= n; i += 2) igrad32_rows(g + i * fo, wt, fo, out + i * 32, 2);
    if (i < n) igrad32_rows(g + i * fo, wt, fo, out + i * 32, 1);
    return;
  }
  for (ptrdiff_t i = 0; i < n; i++) row_times_matrix(g + i * fo, fo, wt, fi, out + i * fi);
}

AI void adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, ptrdiff_t count,
             float b1, float b2, float lr, float invC2, float eps, float wd) {
  for (ptrdiff_t i = 0; i < count; i++) {
    const float gr = g[i] + wd * p[i];
    const float mi = b1 * m[i] + (1 - b1) * gr;
    const float vi = b2 * v[i] + (1 - b2) * gr * gr;
    m[i] = mi;
    v[i] = vi;
    p[i] -= lr * mi / (__builtin_elementwise_sqrt(vi * invC2) + eps);
  }
}

AI void ntk_fm_fit_impl(const ntk_fm_layer *layers, int count, float *restrict theta, float *restrict grad, float *restrict m1,
                float *restrict m2, ptrdiff_t parameters, const float *x, const float *y, ptrdiff_t n, ptrdiff_t m,
                float *const *acts, float *cot, float *cot2, float *restrict wt, int steps, const float *lrs,
                const float *invC2s, float b1, float b2, float eps, float wd, const int RB) {
  const float scale = 2 / (float)(n * m);
  for (int s = 0; s < steps; s++) {
    const float *in = x;
    for (int l = 0; l < count; l++) {
      const ntk_fm_layer *L = layers + l;
      affine_forward(in, n, L->fanIn, theta + L->kernel, L->fanOut, L->weightScale,
                     L->bias >= 0 ? theta + L->bias : 0, L->biasScale, L->act, L->alpha, acts[l], RB);
      in = acts[l];
    }
    float *g = cot, *spare = cot2;
    {
      const float *out = acts[count - 1];
      for (ptrdiff_t i = 0; i < n * m; i++) g[i] = scale * (out[i] - y[i]);
    }
    for (int l = count - 1; l >= 0; l--) {
      const ntk_fm_layer *L = layers + l;
      const ptrdiff_t fi = L->fanIn, fo = L->fanOut;
      activation_backward(acts[l], g, n * fo, L->act, L->alpha);
      weight_gradient(l == 0 ? x : acts[l - 1], g, n, fi, fo, L->weightScale, grad + L->kernel,
                      L->bias >= 0 ? grad + L->bias : 0, L->biasScale, RB);
      if (l == 0) break;
      input_gradient(g, theta + L->kernel, n, fi, fo, L->weightScale, wt + L->kernel, spare, RB);
      float *t = g; g = spare; spare = t;
    }
    adam(theta, grad, m1, m2, parameters, b1, b2, lrs[s], invC2s[s], eps, wd);
  }
}

AI void ntk_fm_distances_impl(const float *restrict a, const float *restrict b, ptrdiff_t n, ptrdiff_t m, int metric,
                      float *restrict out) {
  if (m == 1 && metric != NTK_METRIC_L1) {
    for (ptrdiff_t i = 0; i < n; i++) {
      const double e = (double)a[i] - (double)b[i];
      out[i] = metric == NTK_METRIC_MSE ? (float)(e * e) : (float)__builtin_elementwise_sqrt(e * e);
    }
    return;
  }
  for (ptrdiff_t i = 0; i < n; i++) {
    double s = 0;
    const float *ai = a + i * m, *bi = b + i * m;
    if (metric == NTK_METRIC_L1) {
      for (ptrdiff_t k = 0; k < m; k++) s += __builtin_fabs((double)ai[k] - (double)bi[k]);
    } else {
      for (ptrdiff_t k = 0; k < m; k++) { const double e = (double)ai[k] - (double)bi[k]; s += e * e; }
      s = metric == NTK_METRIC_MSE ? s / (double)m : __builtin_elementwise_sqrt(s);
    }
    out[i] = (float)s;
  }
}

/* Dispatch on NTKIT_ISA (ntk_isa_get): one copy of each kernel per instruction
   set, chosen per call, so tests can run the baseline and AVX2 code on an
   AVX-512 machine. All copies give the same bits (see the top of the file). */
#define UNPAREN(...) __VA_ARGS__
#if defined(__x86_64__) && defined(__clang__)
#define DISPATCH_WITH(name, params, args, call512, call256, call128)                                  \
  __attribute__((target("avx512f,avx2,fma"))) static void name##_avx512 params { call512; } \
  __attribute__((target("avx2,fma"))) static void name##_avx2 params { call256; }           \
  static void name##_baseline params { call128; }                                          \
  void name params {                                                                        \
    switch (ntk_isa_get()) {                                                                \
    case NTK_ISA_AVX512: name##_avx512 args; break;                               \
    case NTK_ISA_AVX2: name##_avx2 args; break;                                   \
    default: name##_baseline args; break;                                         \
    }                                                                                       \
  }
#else
#define DISPATCH_WITH(name, params, args, call512, call256, call128) \
  void name params { call512; }
#endif
/* Register-block rows (RB) per instruction set: 32 zmm registers hold 8 rows × 32 outputs; 16 ymm
   (or xmm) registers hold 2 without spilling. */
#define DISPATCH(name, params, args) DISPATCH_WITH(name, params, args, name##_impl args, name##_impl args, name##_impl args)
#define DISPATCH_RB(name, params, args) \
  DISPATCH_WITH(name, params, args, name##_impl(UNPAREN args, 8), name##_impl(UNPAREN args, 2), name##_impl(UNPAREN args, 2))

DISPATCH_RB(ntk_fm_affine_forward,
         (const float *restrict x, ptrdiff_t n, ptrdiff_t fi, const float *restrict w, ptrdiff_t fo, float ws,
          const float *restrict b, float bs, int act, float alpha, float *restrict y),
         (x, n, fi, w, fo, ws, b, bs, act, alpha, y))
DISPATCH_RB(ntk_fm_fit,
         (const ntk_fm_layer *layers, int count, float *restrict theta, float *restrict grad, float *restrict m1,
          float *restrict m2, ptrdiff_t parameters, const float *x, const float *y, ptrdiff_t n, ptrdiff_t m,
          float *const *acts, float *cot, float *cot2, float *restrict wt, int steps, const float *lrs,
          const float *invC2s, float b1, float b2, float eps, float wd),
         (layers, count, theta, grad, m1, m2, parameters, x, y, n, m, acts, cot, cot2, wt, steps, lrs, invC2s, b1, b2,
          eps, wd))
DISPATCH(ntk_fm_distances,
         (const float *restrict a, const float *restrict b, ptrdiff_t n, ptrdiff_t m, int metric, float *restrict out),
         (a, b, n, m, metric, out))

ptrdiff_t ntk_fm_next_block(ptrdiff_t *counter) { return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }
