// elementwise.cl — small element-wise and row/column kernels.
//
// ntk_fill:           x[i] = value, i < count
// ntk_copy:           y[i] = x[i], i < count (regions must not overlap)
// ntk_add_row_vector: x[r, c] += scale · v[c], x rows×cols row-major
// ntk_column_sums:    out[c] = scale · Σ_r x[r, c] (one work-item per column,
//                     rows summed in order, as the CPU does)
// ntk_identity_cotangent: out[i, a, b] = (a == b), out n×m×m
// ntk_axpy:           x[i] += alpha · y[i]
// ntk_adam_step:      one Adam step; host passes the bias-corrected rate
//                     lr = η / (1 − β1^t) and invC2 = 1 / (1 − β2^t)
// Work-group size: any (1-D); global size rounded up, edges checked.

__kernel void ntk_fill(__global REAL *x, ulong off, ulong count, REAL value) {
  const size_t i = get_global_id(0);
  if (i < count) x[off + i] = value;
}

__kernel void ntk_copy(__global const REAL *x, ulong offX, __global REAL *y, ulong offY, ulong count) {
  const size_t i = get_global_id(0);
  if (i < count) y[offY + i] = x[offX + i];
}

__kernel void ntk_add_row_vector(__global REAL *x, ulong offX, int rows, int cols,
                                 __global const REAL *v, ulong offV, REAL scale) {
  const size_t e = get_global_id(0);
  if (e >= (size_t)rows * cols) return;
  x[offX + e] += scale * v[offV + e % cols];
}

__kernel void ntk_column_sums(__global const REAL *x, ulong offX, int rows, int cols, REAL scale,
                              __global REAL *out, ulong offOut) {
  const int c = get_global_id(0);
  if (c >= cols) return;
  REAL s = (REAL)0;
  for (int r = 0; r < rows; r++) s += x[offX + (size_t)r * cols + c];
  out[offOut + c] = scale == (REAL)1 ? s : s * scale;
}

__kernel void ntk_identity_cotangent(__global REAL *out, ulong off, int n, int m) {
  const size_t e = get_global_id(0);
  if (e >= (size_t)n * m * m) return;
  const int b = (int)(e % m), a = (int)((e / m) % m);
  out[off + e] = a == b ? (REAL)1 : (REAL)0;
}

__kernel void ntk_axpy(REAL alpha, __global const REAL *y, ulong offY, __global REAL *x, ulong offX, ulong count) {
  const size_t i = get_global_id(0);
  if (i < count) x[offX + i] += alpha * y[offY + i];
}

__kernel void ntk_adam_step(__global REAL *p, ulong offP, __global const REAL *g, ulong offG,
                            __global REAL *m, ulong offM, __global REAL *v, ulong offV, ulong count,
                            REAL b1, REAL b2, REAL lr, REAL invC2, REAL eps, REAL wd) {
  const size_t i = get_global_id(0);
  if (i >= count) return;
  const REAL grad = g[offG + i] + wd * p[offP + i];
  const REAL mi = b1 * m[offM + i] + ((REAL)1 - b1) * grad;
  const REAL vi = b2 * v[offV + i] + ((REAL)1 - b2) * grad * grad;
  m[offM + i] = mi;
  v[offV + i] = vi;
  p[offP + i] -= lr * mi / (sqrt(vi * invC2) + eps);
}
