// activation.cl — element-wise activations σ and their derivatives σ'.
//
// Codes (Activation.code, NTK_ACT_* below): 0 identity, 1 relu, 2 tanh, 3 sigmoid, 4 gelu
// (exact, erf-based), 5 softplus, 6 silu, 7 leaky_relu (slope `alpha`).
// ntk_act_forward: y[i] = σ(z[i]) for i < count (y may alias z).
// ntk_act_backward: g[(i·m + a)·width + k] *= σ'(z[i·width + k]) for
//   z: n×width, g: n×m×width (cotangents of m outputs per sample).
// At the kink of relu/leaky_relu the derivative of z > 0 is taken.
// Work-group size: any (1-D); global size rounded up, edges checked.

// NTK_ACT_*: the code table of Sources/CNTKitCPU/include/ntkit_codes.h, defined in front of
// every program by CLCodeTable.

inline REAL act_apply(int act, REAL alpha, REAL z) {
  switch (act) {
  case NTK_ACT_RELU: return z > (REAL)0 || isnan(z) ? z : (REAL)0;  // NaN passes: overflows stay visible
  case NTK_ACT_TANH: return tanh(z);
  case NTK_ACT_SIGMOID: return (REAL)1 / ((REAL)1 + exp(-z));
  case NTK_ACT_GELU: return z * ((REAL)1 + erf(z * (REAL)0.7071067811865476)) / (REAL)2;
  case NTK_ACT_SOFTPLUS: return z > (REAL)0 ? z + log1p(exp(-z)) : log1p(exp(z));
  case NTK_ACT_SILU: return z / ((REAL)1 + exp(-z));
  case NTK_ACT_LEAKY_RELU: return z >= (REAL)0 ? z : alpha * z;
  default: return z;
  }
}

inline REAL act_derivative(int act, REAL alpha, REAL z) {
  switch (act) {
  case NTK_ACT_RELU: return z > (REAL)0 ? (REAL)1 : (REAL)0;
  case NTK_ACT_TANH: { const REAL t = tanh(z); return (REAL)1 - t * t; }
  case NTK_ACT_SIGMOID: { const REAL s = (REAL)1 / ((REAL)1 + exp(-z)); return s * ((REAL)1 - s); }
  case NTK_ACT_GELU: {
    const REAL cdf = ((REAL)1 + erf(z * (REAL)0.7071067811865476)) / (REAL)2;
    const REAL pdf = exp(-z * z / (REAL)2) * (REAL)0.3989422804014327;
    return cdf + z * pdf;
  }
  case NTK_ACT_SOFTPLUS: return (REAL)1 / ((REAL)1 + exp(-z));
  case NTK_ACT_SILU: { const REAL s = (REAL)1 / ((REAL)1 + exp(-z)); return s * ((REAL)1 + z * ((REAL)1 - s)); }
  case NTK_ACT_LEAKY_RELU: return z >= (REAL)0 ? (REAL)1 : alpha;
  default: return (REAL)1;
  }
}

__kernel void ntk_act_forward(int act, REAL alpha, __global const REAL *z, ulong offZ,
                              __global REAL *y, ulong offY, ulong count) {
  const size_t i = get_global_id(0);
  if (i >= count) return;
  y[offY + i] = act_apply(act, alpha, z[offZ + i]);
}

__kernel void ntk_act_backward(int act, REAL alpha, __global const REAL *z, ulong offZ,
                               __global REAL *g, ulong offG, int n, int m, int width) {
  const size_t e = get_global_id(0);
  const size_t total = (size_t)n * m * width;
  if (e >= total) return;
  const size_t k = e % width, i = e / ((size_t)m * width);
  const REAL zv = z[offZ + i * width + k];
  if (act == 1) {
    if (!(zv > (REAL)0)) g[offG + e] = (REAL)0;
  } else {
    g[offG + e] *= act_derivative(act, alpha, zv);
  }
}
